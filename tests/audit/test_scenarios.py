"""Every built-in check against fixture roots where it must pass and where it must fail.

Scenarios are data, in scenarios/<area>.yaml:

    common: {files: {...}}            # a tree spec merged under every scenario of the file
    checks:
      ssh.permit_root_login:
        pass:
          - files: {/etc/ssh/sshd_config: "PermitRootLogin no\\n"}
        fail:
          - note: unset means prohibit-password
            files: {/etc/ssh/sshd_config: "\\n"}
        not_applicable: [...]         # optional, as are `error` scenarios
            without: [/etc/passwd]    # drop paths of the common tree

Tree specs are described in trees.py. Every check must have at least one `pass` and one
`fail` scenario: test_every_check_has_scenarios fails otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from assay.audit.loader import builtin_checks
from tests.audit.trees import make_source, run_one

SCENARIOS = Path(__file__).parent / "scenarios"
STATUSES = ("pass", "fail", "not_applicable", "error")
CHECKS = {check.id: check for check in builtin_checks()}


def _merge(common: dict[str, Any], scenario: dict[str, Any]) -> dict[str, Any]:
    dropped = set(scenario.get("without") or ())
    spec: dict[str, Any] = {}
    for key in ("files", "dirs", "links"):
        merged = {**(common.get(key) or {}), **(scenario.get(key) or {})}
        spec[key] = {k: v for k, v in merged.items() if k not in dropped}
    spec["fifos"] = [*(common.get("fifos") or ()), *(scenario.get("fifos") or ())]
    unknown = set(scenario) - {"files", "dirs", "links", "fifos", "without", "note"}
    assert not unknown, f"unknown scenario keys: {unknown}"
    return spec


def _scenarios() -> Iterator[tuple[str, str, int, dict[str, Any]]]:
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        common = data.get("common") or {}
        for check_id, cases in (data.get("checks") or {}).items():
            unknown = set(cases) - set(STATUSES)
            assert not unknown, f"{path.name}: {check_id}: unknown statuses {unknown}"
            for status in STATUSES:
                for index, scenario in enumerate(cases.get(status) or ()):
                    yield check_id, status, index, _merge(common, scenario or {})


ALL = list(_scenarios())


@pytest.mark.parametrize(
    ("check_id", "status", "spec"),
    [pytest.param(c, s, spec, id=f"{c}-{s}-{i}") for c, s, i, spec in ALL],
)
def test_scenario(tmp_path: Path, check_id: str, status: str, spec: dict[str, Any]) -> None:
    assert check_id in CHECKS, f"no built-in check {check_id}"
    result = run_one(CHECKS[check_id], make_source(tmp_path / "root", spec))
    assert result.status == status, (
        f"{check_id}: expected {status}, got {result.status}: "
        f"{result.reason or result.observed} (expected value: {result.expected})"
    )
    if status in ("not_applicable", "error"):
        assert result.reason
    else:
        assert result.observed and result.locations


def test_every_check_has_scenarios() -> None:
    covered: dict[str, set[str]] = {}
    for check_id, status, _, _ in ALL:
        covered.setdefault(check_id, set()).add(status)
    missing = [
        f"{c}: {', '.join(s for s in ('pass', 'fail') if s not in covered.get(c, set()))}"
        for c in CHECKS
        if not {"pass", "fail"} <= covered.get(c, set())
    ]
    assert not missing, "checks without pass/fail scenarios:\n" + "\n".join(missing)
    assert set(covered) <= set(CHECKS), (
        f"scenarios for unknown checks: {set(covered) - set(CHECKS)}"
    )
