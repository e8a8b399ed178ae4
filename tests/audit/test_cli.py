"""`assay audit host` and `assay audit checks` end to end (no database involved)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assay.audit.loader import builtin_checks
from assay.cli.main import app
from tests.audit.trees import build_tree

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["audit", *args])
    return result.exit_code, result.stdout, result.stderr


def _root(tmp_path: Path, sshd_config: str) -> str:
    root = tmp_path / "image"
    build_tree(root, {"files": {"/etc/ssh/sshd_config": sshd_config}})
    return str(root)


def test_json_output_is_only_json(tmp_path: Path) -> None:
    root = _root(tmp_path, "PermitRootLogin no\n")
    code, out, _ = invoke("host", "--root", root, "--area", "ssh", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["target"] == f"root:{Path(root).resolve()}"
    assert data["summary"]["checks"] == len(data["results"]) == 51
    assert len(data["digest"]) == 64
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["ssh.permit_root_login"]["status"] == "pass"
    assert by_id["ssh.permit_root_login"]["locations"] == [
        {"path": "/etc/ssh/sshd_config", "line": 1}
    ]


def test_fail_on_gates_by_severity(tmp_path: Path) -> None:
    root = _root(tmp_path, "PermitRootLogin yes\nPermitEmptyPasswords no\n")
    args = ("host", "--root", root, "--check", "ssh.permit_*", "--json")
    assert invoke(*args, "--fail-on", "high")[0] == 1  # permit_root_login (high) fails
    assert invoke(*args, "--fail-on", "CRITICAL")[0] == 0  # permit_empty_passwords passes
    assert invoke(*args)[0] == 0


def test_table_output(tmp_path: Path) -> None:
    code, out, _ = invoke("host", "--root", _root(tmp_path, "\n"), "--check", "ssh.banner")
    assert code == 0
    assert "ssh.banner" in out and "FAIL" in out and "1 checks on root:" in out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, out, err = invoke("host", "--root", str(tmp_path / "missing"))
    assert code == 2 and out == ""
    assert err.strip() == f"error: the root {tmp_path / 'missing'} does not exist"
    code, _, err = invoke("host", "--root", str(tmp_path), "--check", "nothing.*")
    assert code == 2 and "no check matches" in err
    assert invoke("host", "--area", "bogus")[0] == 2
    assert invoke("host", "--fail-on", "extreme")[0] == 2


def test_checks_listing() -> None:
    code, out, _ = invoke("checks", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [c["id"] for c in listed] == [c.id for c in builtin_checks()]
    first = listed[0]
    assert {
        "title",
        "severity",
        "rationale",
        "remediation",
        "references",
        "probe",
        "expect",
    } <= set(first)
    code, out, _ = invoke("checks", "--area", "kernel")
    assert code == 0 and "kernel.aslr" in out and "ssh.banner" not in out
