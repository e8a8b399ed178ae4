"""The runner: one result per check whatever happens, summaries, digests, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.audit import probes
from assay.audit.loader import builtin_checks, select
from assay.audit.probes.base import Context
from assay.audit.runner import INTERNAL, MAX_LOCATIONS, MAX_OBSERVED, run, run_check
from assay.audit.schema import Severity
from assay.audit.source import DEFAULT_READ_LIMIT, Unreadable
from tests.audit.conftest import MakeRoot
from tests.audit.trees import OwnedSource, make_source

SSH = {"/etc/ssh/sshd_config": "PermitRootLogin no\nPasswordAuthentication no\n"}


class Denied(OwnedSource):
    """A source where some files exist but cannot be read (as chmod 000 for a non-root user:
    tests may run as root, who reads anything, so this is simulated)."""

    denied: frozenset[str] = frozenset()

    def read_bytes(self, path: str, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        if self.realpath(path) in self.denied:
            raise Unreadable(path, "permission denied")
        return super().read_bytes(path, limit)


def test_unreadable_files_are_errors_per_check(tmp_path: Path) -> None:
    source = make_source(tmp_path / "r", {"files": {**SSH, "/etc/shadow": "root:*:1::::::\n"}})
    denied = Denied(Path(source.root), source.owners)
    denied.denied = frozenset({"/etc/ssh/sshd_config", "/etc/shadow"})
    audit = run(denied, select(builtin_checks(), areas=["ssh", "accounts"]))
    by_id = {r.check_id: r for r in audit.results}
    assert by_id["ssh.permit_root_login"].status == "error"
    assert "permission denied" in by_id["ssh.permit_root_login"].reason
    assert by_id["accounts.no_empty_passwords"].status == "error"
    # the file's state is still visible: permission checks do not read contents
    assert by_id["ssh.config_permissions"].status == "pass"
    assert not any(r.reason.startswith(INTERNAL) for r in audit.results)


def test_a_crashing_probe_is_an_error_and_the_run_goes_on(
    make_root: MakeRoot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: Context, probe: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(probes._PROBES, "sysctl", broken)
    audit = run(make_root({"files": SSH}), select(builtin_checks(), areas=["kernel", "ssh"]))
    statuses = {r.check_id: (r.status, r.reason) for r in audit.results}
    assert statuses["kernel.aslr"] == ("error", f"{INTERNAL}RuntimeError: boom")
    assert statuses["ssh.permit_root_login"][0] == "pass"
    assert statuses["kernel.module_dccp"][0] == "fail"


def test_summary_digest_and_severity_gate(make_root: MakeRoot) -> None:
    checks = select(builtin_checks(), areas=["ssh"])
    first = run(make_root({"files": SSH}), checks)
    again = run(make_root({"files": SSH}), checks)
    assert first.digest == again.digest  # timings and dates are not part of it
    changed = run(make_root({"files": {"/etc/ssh/sshd_config": "PermitRootLogin yes\n"}}), checks)
    assert changed.digest != first.digest
    summary = changed.summary()
    assert summary["checks"] == len(checks) == sum(summary["by_status"].values())
    assert summary["failed_by_severity"]["high"] >= 1
    assert any(
        r.check_id == "ssh.permit_root_login" for r in changed.failed_at_or_above(Severity.high)
    )
    assert not changed.failed_at_or_above(Severity.critical)
    data = changed.to_dict()
    assert data["target"].startswith("root:") and data["digest"] == changed.digest
    assert {"id", "status", "observed", "expected", "locations", "reason"} <= set(
        data["results"][0]
    )


def test_applicability_reasons(make_root: MakeRoot) -> None:
    ctx = Context(make_root({"files": {"/etc/hostname": "h\n"}}))
    by_id = {c.id: c for c in builtin_checks()}
    result = run_check(ctx, by_id["ssh.permit_root_login"])
    assert result.status == "not_applicable"
    assert result.reason == "/etc/ssh/sshd_config does not exist"
    pam = run_check(ctx, by_id["accounts.lockout_module"])
    assert pam.status == "not_applicable" and "none of" in pam.reason


def test_each_file_is_read_once_per_run(make_root: MakeRoot) -> None:
    source = make_root({"files": SSH})
    reads: list[str] = []
    original = source.read_bytes

    def counting(path: str, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        reads.append(path)
        return original(path, limit)

    source.read_bytes = counting  # type: ignore[method-assign]
    run(source, select(builtin_checks(), areas=["ssh"]))
    assert reads.count("/etc/ssh/sshd_config") == 1


def test_results_stay_bounded(make_root: MakeRoot) -> None:
    long_lines = "".join(f"+{'x' * 300}{i}\n" for i in range(200))
    ctx = Context(make_root({"files": {"/etc/passwd": long_lines}}))
    by_id = {c.id: c for c in builtin_checks()}
    result = run_check(ctx, by_id["accounts.no_nis_entries_passwd"])
    assert result.status == "fail"
    assert len(result.observed) <= MAX_OBSERVED and result.observed.endswith("…")
    assert 0 < len(result.locations) <= MAX_LOCATIONS
