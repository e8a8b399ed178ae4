"""Expectations (pure evaluation) and check files (validation, references, line numbers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.audit.expect import describe, problems
from assay.audit.loader import KnownControls, builtin_checks, load_checks, parse_check_file, select
from assay.audit.schema import Expect
from assay.catalog.yamlfile import ContentError

KNOWN = KnownControls(cis=frozenset({"4.1", "5.2"}), csf=frozenset({"PR.PS-01"}))


def expect(**conditions: Any) -> Expect:
    return Expect.model_validate(conditions)


@pytest.mark.parametrize(
    ("conditions", "value", "ok"),
    [
        ({"equals": "no"}, "no", True),
        ({"equals": "no"}, "yes", False),
        ({"equals": "no"}, None, False),
        ({"in": ["1", "2"]}, "2", True),
        ({"not_in": ["none"]}, "none", False),
        ({"at_least": 1, "at_most": 4}, "4", True),
        ({"at_most": 4}, "6", False),
        ({"at_most": 4}, "many", False),
        ({"at_least": 0}, "-1", False),
        ({"regex": "^0*[0-7]?[2367]7$"}, "027", True),
        ({"regex": "^0*[0-7]?[2367]7$"}, "022", False),
        ({"not_regex": "-cbc$"}, ["aes128-ctr", "aes256-cbc"], False),
        ({"not_regex": "-cbc$"}, ["aes128-ctr"], True),
        ({"absent": True}, [], True),
        ({"absent": True}, None, True),
        ({"absent": True}, ["x"], False),
        ({"present": True}, [], False),
        ({"present": True}, ["a", None], False),
        ({"present": True}, ["a"], True),
        ({"unique": True}, ["0", "1", "1"], False),
        ({"contains": ["nodev", "nosuid"]}, ["rw", "nodev"], False),
        ({"contains": ["nodev"]}, ["rw", "nodev"], True),
        ({"in": ["root"]}, ["root", "toor"], False),
        ({"in": ["root"]}, [], True),
    ],
)
def test_conditions(conditions: dict[str, Any], value: Any, ok: bool) -> None:
    assert (problems(expect(**conditions), value) == []) is ok


def test_file_state_conditions() -> None:
    state = {"path": "/etc/shadow", "mode": "0644", "owner": "root", "group": "shadow", "uid": 0}
    rule = expect(mode_at_most="0640", owner="root", group=["root", "shadow"])
    assert problems(rule, state) == ["/etc/shadow: mode 0644 exceeds 0640"]
    assert problems(rule, {**state, "mode": "0600"}) == []
    assert problems(rule, {**state, "mode": "4600"}) == ["/etc/shadow: mode 4600 exceeds 0640"]
    assert problems(rule, None) == ["does not exist"]
    assert describe(rule) == "mode at most 0640 and owner root and group root or shadow"


def test_expectations_are_typed() -> None:
    with pytest.raises(ValueError, match="quote"):
        expect(equals=False)  # an unquoted `no` in YAML
    with pytest.raises(ValueError, match="at least one condition"):
        expect()
    with pytest.raises(ValueError, match="quoted octal"):
        expect(mode_at_most=644)
    with pytest.raises(ValueError, match="regular expression"):
        expect(regex="([")


GOOD = b"""format: assay/checks/v1
area: demo
title: Demo
checks:
  - id: demo.one
    title: One
    severity: low
    rationale: Why.
    remediation: How.
    references: {cis: ["4.1"], csf: [PR.PS-01], sp800_53: [AC-2(1)]}
    probe: {type: sysctl, key: kernel.x}
    expect: {equals: "1"}
"""


def test_a_valid_file_loads() -> None:
    document = parse_check_file(GOOD, "demo.yaml", KNOWN)
    assert [c.id for c in document.checks] == ["demo.one"]
    assert document.checks[0].area == "demo"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((b'cis: ["4.1"]', b'cis: ["4.99"]'), "line 10: checks.0.references.cis.0: 4.99 is not in"),
        ((b"csf: [PR.PS-01]", b"csf: [PR.XX-01]"), "line 10: checks.0.references.csf.0"),
        ((b"AC-2(1)", b"AC2"), "line 10: checks.0.references.sp800_53.0"),
        ((b"type: sysctl", b"type: telepathy"), "line 11: checks.0.probe"),
        ((b'equals: "1"', b"equals: no"), "line 12: checks.0.expect.equals: quote"),
        (
            (b'equals: "1"', b'mode_at_most: "0644"'),
            "line 5: checks.0: mode_at_most, owner and group",
        ),
        ((b"id: demo.one", b"id: other.one"), "must start with 'demo.'"),
        ((b"id: demo.one", b"id: Demo One"), "line 5: checks.0.id"),
        ((b"severity: low", b"severity: urgent"), "line 7: checks.0.severity"),
    ],
)
def test_problems_name_their_line(change: tuple[bytes, bytes], message: str) -> None:
    old, new = change
    with pytest.raises(ContentError) as caught:
        parse_check_file(GOOD.replace(old, new), "demo.yaml", KNOWN)
    shown = [caught.value.message, *(str(p) for p in caught.value.problems)]
    assert any(message in text for text in shown), shown


def test_ids_are_unique_across_files_and_file_names_are_areas(tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_bytes(GOOD)
    (tmp_path / "other.yaml").write_bytes(GOOD.replace(b"area: demo", b"area: other"))
    with pytest.raises(ContentError):
        load_checks(tmp_path)
    (tmp_path / "other.yaml").write_bytes(GOOD.replace(b"demo", b"other"))
    assert [c.id for c in load_checks(tmp_path)] == ["demo.one", "other.one"]


def test_builtin_checks_are_valid_and_selectable() -> None:
    checks = builtin_checks()
    assert builtin_checks() is checks  # cached
    assert len(checks) >= 100
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids))
    areas = {c.area for c in checks}
    assert {"ssh", "accounts", "kernel", "filesystem"} <= areas
    assert {c.id for c in select(checks, patterns=["ssh.permit_*"])} == {
        "ssh.permit_root_login",
        "ssh.permit_empty_passwords",
        "ssh.permit_tunnel",
        "ssh.permit_user_environment",
    }
    assert all(c.area == "kernel" for c in select(checks, areas=["kernel"]))
    for check in checks:
        assert len(check.rationale) > 40, check.id
        assert check.references.cis and check.references.csf, check.id
