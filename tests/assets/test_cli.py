"""`assay asset` end to end through the CLI against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.auditlog.models import AuditEvent
from assay.cli.main import app
from tests.assets.conftest import stored
from tests.factories import World

runner = CliRunner()
OPERATOR = "it-operator@client-a.test"
MSP_ADMIN = "admin@northwind.test"
AUDITOR = "auditor@sentinel.test"
STRANGER = "admin@client-b.test"


def assay(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> str:
    code, out, err = assay(*args)
    assert code == 0, f"assay {' '.join(args)} exited {code}: {err}"
    return out


def ok_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json"))


def create(name: str, *extra: str, who: str = OPERATOR) -> dict[str, Any]:
    created: dict[str, Any] = ok_json(
        "asset",
        "create",
        "--org",
        "client-a",
        "--name",
        name,
        "--kind",
        "host",
        "--as",
        who,
        *extra,
    )
    return created


def test_create_list_show_update_delete(session: Session, world: World) -> None:
    web1 = create("web1", "--id", "hostname:WEB1", "--id", "ip:10.0.0.5", "--tag", "DMZ")
    assert web1["identifiers"] == [
        {"kind": "hostname", "value": "web1"},
        {"kind": "ip", "value": "10.0.0.5"},
    ]
    create("db1", "--criticality", "critical", "--classification", "restricted", who=MSP_ADMIN)
    listed = ok_json("asset", "list", "--org", "client-a", "--as", AUDITOR)
    assert [a["name"] for a in listed["items"]] == ["db1", "web1"] and listed["total"] == 2
    hosts = ok_json("asset", "list", "--org", "client-a", "--kind", "host", "--tag", "dmz")
    assert [a["name"] for a in hosts["items"]] == ["web1"]
    table = ok("asset", "list", "--org", "client-a")
    assert "web1" in table and "db1" in table
    shown = ok_json("asset", "show", str(web1["id"]), "--as", "executive@client-a.test")
    assert shown["tags"] == ["dmz"] and shown["organization"] == "client-a"
    assert f"Asset {web1['id']}: web1  (client-a, host" in ok("asset", "show", str(web1["id"]))
    updated = ok_json(
        "asset",
        "update",
        str(web1["id"]),
        "--criticality",
        "low",
        "--id",
        "ip:10.0.0.7",
        "--as",
        OPERATOR,
    )
    assert updated["criticality"] == "low" and updated["identifiers"] == [
        {"kind": "ip", "value": "10.0.0.7"}
    ]
    ok("asset", "delete", str(web1["id"]), "--as", OPERATOR)
    assert ok_json("asset", "list", "--org", "client-a")["total"] == 1
    session.rollback()
    actions = [
        (e.action, e.actor_label, e.via)
        for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if e.action.startswith("asset.")
    ]
    assert actions == [
        ("asset.create", OPERATOR, "cli"),
        ("asset.create", MSP_ADMIN, "cli"),
        ("asset.update", OPERATOR, "cli"),
        ("asset.delete", OPERATOR, "cli"),
    ]
    assert "intact" in ok("audit-log", "verify")


def test_refusals_are_one_line_on_stderr_and_change_nothing(session: Session, world: World) -> None:
    web1 = create("web1", "--id", "ip:10.0.0.5")
    before = stored(session)
    cases = [
        (
            ["asset", "create", "--org", "client-a", "--name", "web1", "--kind", "host"],
            "exists already",
        ),
        (
            ["asset", "create", "--org", "client-a", "--name", "x", "--kind", "ufo"],
            "unknown asset kind",
        ),
        (
            [
                "asset",
                "create",
                "--org",
                "client-a",
                "--name",
                "x",
                "--kind",
                "host",
                "--id",
                "10.0.0.9",
            ],
            "needs a kind",
        ),
        (
            [
                "asset",
                "create",
                "--org",
                "client-a",
                "--name",
                "x",
                "--kind",
                "host",
                "--id",
                "ip:10.0.0.5",
            ],
            "belongs to asset 'web1'",
        ),
        (
            [
                "asset",
                "create",
                "--org",
                "client-a",
                "--name",
                "x",
                "--kind",
                "host",
                "--as",
                AUDITOR,
            ],
            "may not asset.manage",
        ),
        (
            ["asset", "list", "--org", "client-a", "--as", STRANGER],
            "organization 'client-a' not found",
        ),
        (["asset", "show", str(web1["id"]), "--as", STRANGER], f"asset {web1['id']} not found"),
        (["asset", "delete", str(web1["id"]), "--as", STRANGER], f"asset {web1['id']} not found"),
        (["asset", "update", str(web1["id"]), "--kind", "ufo"], "unknown asset kind"),
        (["asset", "show", "999999"], "asset 999999 not found"),
        (["asset", "list", "--org", "client-a", "--kind", "ufo"], "unknown asset kind"),
    ]
    for args, message in cases:
        code, out, err = assay(*args)
        assert code == 1, (args, out, err)
        assert message in err and err.startswith("error: ") and err.count("\n") == 1, (args, err)
    assert stored(session) == before


def test_import_lists_every_problem_and_stores_nothing(
    tmp_path: Path, session: Session, world: World
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,identifiers\nweb1,spaceship,ip:1.2.3.999\n,host,\n", "utf-8")
    before = stored(session)
    code, out, err = assay("asset", "import", "--org", "client-a", str(bad), "--as", OPERATOR)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{bad}: line 2: kind: unknown asset kind 'spaceship' (use host, application, "
        "cloud_account, network_device, data_store, saas)",
        f"{bad}: line 2: identifiers: '1.2.3.999' is not an IP address",
        f"{bad}: line 3: name: missing (every asset needs a name)",
        "error: bad.csv: line 2: kind: unknown asset kind 'spaceship' (use host, application, "
        "cloud_account, network_device, data_store, saas) (and 2 more problems)",
    ]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,kind\ncafé,host\n".encode("latin-1"))
    code, _, err = assay("asset", "import", "--org", "client-a", str(latin), "--as", OPERATOR)
    assert code == 1 and "line 2: not UTF-8 text" in err
    code, _, err = assay("asset", "import", "--org", "client-a", str(tmp_path), "--as", OPERATOR)
    assert code == 1 and "is a directory" in err
    code, _, err = assay("asset", "import", "--org", "client-a", str(bad))
    assert code == 2 and "--as" in err  # an import is a person's act
    assert stored(session) == before


def test_export_then_import_with_update(tmp_path: Path, session: Session, world: World) -> None:
    create("web1", "--id", "ip:10.0.0.5", "--owner", "=cmd|' /C calc'!A0")
    exported = tmp_path / "assets.csv"
    assert "wrote" in ok("asset", "export", "--org", "client-a", "-o", str(exported))
    text = exported.read_text("utf-8-sig")
    assert "'=cmd" in text  # neutralized for spreadsheets
    assert ok("asset", "export", "--org", "client-a", "--as", AUDITOR).lstrip("\ufeff") == text
    edited = tmp_path / "edited.csv"
    edited.write_text(text.replace(",medium,", ",critical,") + "db1,data_store,,,,,,\n", "utf-8")
    code, _, err = assay("asset", "import", "--org", "client-a", str(edited), "--as", OPERATOR)
    assert code == 1 and "exists already (to change it, import in update mode)" in err
    report = ok_json(
        "asset", "import", "--org", "client-a", str(edited), "--as", OPERATOR, "--update"
    )
    assert (report["created"], report["updated"], report["unchanged"]) == (["db1"], ["web1"], [])
    shown = ok_json("asset", "list", "--org", "client-a")["items"]
    assert [(a["name"], a["criticality"], a["owner"]) for a in shown] == [
        ("db1", "medium", None),
        ("web1", "critical", "=cmd|' /C calc'!A0"),
    ]
    summary = ok("asset", "import", "--org", "client-a", str(edited), "--as", OPERATOR, "--update")
    assert summary.startswith("edited.csv: 0 created, 0 updated, 2 unchanged")
    assert "intact" in ok("audit-log", "verify")


@pytest.mark.parametrize(
    "command", ["create", "list", "show", "update", "delete", "import", "export"]
)
def test_every_command_has_help(command: str) -> None:
    assert ok("asset", command, "--help")
