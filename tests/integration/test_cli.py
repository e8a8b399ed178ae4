"""The `assay` command: every group end to end against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.accounts.models import ApiToken
from assay.auditlog.models import AuditEvent
from assay.cli.main import app
from assay.tenancy.models import Organization

runner = CliRunner()


def assay(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str, stdin: str | None = None) -> str:
    code, out, err = assay(*args, stdin=stdin)
    assert code == 0, f"assay {' '.join(args)} exited {code}: {err}"
    return out


def setup_world() -> None:
    ok("org", "create", "northwind", "--name", "Northwind IT", "--kind", "msp")
    ok("org", "create", "acme", "--name", "Acme", "--kind", "client", "--parent", "northwind")
    ok("org", "create", "globex", "--name", "Globex", "--kind", "client", "--parent", "northwind")
    ok("org", "create", "sentinel", "--name", "Sentinel", "--kind", "auditor")
    ok(
        "user",
        "create",
        "admin@northwind.test",
        "--name",
        "Admin",
        "--password-stdin",
        stdin="a-long-admin-password\n",
    )
    ok("member", "add", "northwind", "admin@northwind.test", "--role", "admin")


def test_version() -> None:
    from assay import __version__

    assert ok("--version").strip() == f"assay {__version__}"


def test_org_user_member_token_audit_round_trip(session: Session) -> None:
    setup_world()
    out = ok("org", "grant-auditor", "acme", "sentinel", "--as", "admin@northwind.test")
    assert "sentinel now has access to acme" in out
    orgs = json.loads(ok("org", "list", "--json"))
    assert {o["slug"] for o in orgs["items"]} == {"northwind", "acme", "globex", "sentinel"}
    assert orgs["total"] == 4
    assert {o["parent"] for o in orgs["items"] if o["slug"] == "acme"} == {"northwind"}

    out = ok("user", "create", "ops@acme.test", "--name", "Ops")
    assert "password (shown once):" in out
    ok(
        "member",
        "add",
        "acme",
        "ops@acme.test",
        "--role",
        "it_operator",
        "--as",
        "admin@northwind.test",
    )
    members = json.loads(ok("member", "list", "acme", "--json"))
    assert [(m["email"], m["role"]) for m in members["items"]] == [("ops@acme.test", "it_operator")]
    users = json.loads(ok("user", "list", "--json"))
    assert {u["email"] for u in users["items"]} == {"admin@northwind.test", "ops@acme.test"}

    out = ok("token", "create", "--user", "ops@acme.test", "--org", "acme", "--name", "ci")
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("assay_")
    token_id = session.scalars(select(ApiToken.id)).one()
    listed = ok("token", "list", "--json")
    assert secret not in listed
    assert json.loads(listed)["items"][0]["id"] == token_id
    ok("token", "revoke", str(token_id))

    ok("org", "revoke-auditor", "acme", "sentinel", "--as", "admin@northwind.test")
    ok("member", "remove", "acme", "ops@acme.test", "--as", "admin@northwind.test")

    events = json.loads(ok("audit-log", "list", "--json", "--limit", "100"))
    actions = [e["action"] for e in reversed(events["items"])]
    for expected in [
        "org.create",
        "user.create",
        "member.add",
        "grant.create",
        "token.create",
        "token.revoke",
        "grant.revoke",
        "member.remove",
    ]:
        assert expected in actions
    grant_event = next(e for e in events["items"] if e["action"] == "grant.create")
    assert (grant_event["actor"], grant_event["via"]) == ("admin@northwind.test", "cli")
    acme_events = json.loads(ok("audit-log", "list", "--org", "acme", "--json"))
    assert {e["organization"] for e in acme_events["items"]} == {"acme"}
    assert "intact" in ok("audit-log", "verify")


def test_audit_verify_catches_an_edited_row(session: Session) -> None:
    setup_world()
    assert "intact" in ok("audit-log", "verify")
    victim = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id).offset(2)).first()
    session.execute(
        update(AuditEvent).where(AuditEvent.id == victim).values(detail={"forged": True})
    )
    session.commit()
    code, _, err = assay("audit-log", "verify")
    assert code == 1
    assert f"event {victim}" in err and "TAMPERED" in err


def test_audit_verify_prints_count_and_head(session: Session) -> None:
    setup_world()
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    out = ok("audit-log", "verify")
    assert out == f"audit trail intact: {len(events)} events verified, head {events[-1].hash}\n"
    report = json.loads(ok("audit-log", "verify", "--json"))
    assert report == {
        "intact": True,
        "events": len(events),
        "head": events[-1].hash,
        "expected_head": None,
        "first_bad_id": None,
        "problem": None,
    }
    assert ok("audit-log", "verify", "--expect-head", events[-1].hash.upper()) == out


def test_audit_verify_expect_head_catches_deleting_the_newest_event(session: Session) -> None:
    setup_world()
    head = json.loads(ok("audit-log", "verify", "--json"))["head"]
    newest = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert newest is not None and newest.hash == head
    session.execute(delete(AuditEvent).where(AuditEvent.id == newest.id))
    session.commit()
    assert "intact" in ok("audit-log", "verify")  # the chain alone cannot tell
    code, out, err = assay("audit-log", "verify", "--expect-head", head)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "does not end at the expected head" in err and "not in the chain" in err
    code, out, err = assay("audit-log", "verify", "--expect-head", head, "--json")
    assert code == 1 and err.count("\n") == 1
    report = json.loads(out)
    assert (report["intact"], report["expected_head"]) == (False, head)
    assert report["head"] == newest.prev_hash


def test_audit_verify_expect_head_says_when_the_chain_grew(session: Session) -> None:
    setup_world()
    head = json.loads(ok("audit-log", "verify", "--json"))["head"]
    ok("org", "create", "initech", "--name", "Initech", "--kind", "msp")
    code, _, err = assay("audit-log", "verify", "--expect-head", head)
    assert code == 1 and "followed by 1 newer event" in err


def test_list_commands_print_only_json() -> None:
    setup_world()
    for args in (
        ("org", "list"),
        ("user", "list"),
        ("member", "list", "northwind"),
        ("token", "list"),
        ("audit-log", "list"),
    ):
        payload = json.loads(ok(*args, "--json"))
        assert set(payload) == {"items", "total", "limit", "offset"}


def test_errors_are_one_line_on_stderr(session: Session) -> None:
    setup_world()
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    cases = [
        ("org", "create", "Bad Slug", "--name", "x", "--kind", "msp"),
        ("org", "create", "acme", "--name", "x", "--kind", "msp"),
        ("member", "add", "nowhere", "admin@northwind.test", "--role", "admin"),
        ("member", "add", "acme", "ghost@nowhere.test", "--role", "admin"),
        ("org", "grant-auditor", "acme", "globex"),
        ("token", "revoke", "999"),
        (
            "member",
            "add",
            "acme",
            "admin@northwind.test",
            "--role",
            "admin",
            "--as",
            "ghost@x.test",
        ),
    ]
    for args in cases:
        code, out, err = assay(*args)
        assert code == 1, args
        assert err.startswith("error: ") and err.count("\n") == 1, (args, err)
        assert out == ""
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_usage_errors_exit_2() -> None:
    assert assay("org", "create", "x", "--name", "X", "--kind", "bogus")[0] == 2
    assert assay("member", "add", "x", "y@z.test", "--role", "root")[0] == 2
    assert assay("org", "frobnicate")[0] == 2
    assert assay("token", "revoke", "not-a-number")[0] == 2


def test_separation_of_duties_from_the_cli() -> None:
    setup_world()
    code, _, err = assay(
        "member", "remove", "northwind", "admin@northwind.test", "--as", "admin@northwind.test"
    )
    assert code == 1 and "own membership" in err


def test_password_from_stdin_is_never_printed(session: Session) -> None:
    out = ok(
        "user",
        "create",
        "x@example.org",
        "--name",
        "X",
        "--password-stdin",
        stdin="my-secret-password-123\n",
    )
    assert "my-secret-password-123" not in out
    code, _, err = assay(
        "user", "create", "y@example.org", "--name", "Y", "--password-stdin", stdin="short\n"
    )
    assert code == 1 and "at least 12" in err and "short" not in err.split("characters")[-1]


def test_demo_is_idempotent(session: Session) -> None:
    first = ok("demo")
    second = ok("demo")
    assert "http://127.0.0.1:8000/login" in first
    for email in (
        "admin@northwind.example",
        "ops@northwind.example",
        "auditor@sentinel.example",
        "ceo@contoso.example",
    ):
        assert email in first and email in second
    passwords = [
        line.split()[2] for line in first.splitlines() if line.startswith("  ") and "@" in line
    ]
    assert len(passwords) == 4
    assert not any(p in second for p in passwords)  # fresh passwords on every run
    assert session.scalar(select(func.count()).select_from(Organization)) == 4
    orgs = json.loads(ok("org", "list", "--json", "--as", "auditor@sentinel.example"))
    assert {o["slug"] for o in orgs["items"]} == {"sentinel-assurance", "contoso-dental"}
    assert "intact" in ok("audit-log", "verify")


def test_console_script_runs_as_a_process() -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "assay")
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("assay ")
    done = subprocess.run([exe, "org", "create"], capture_output=True, text=True, check=False)
    assert done.returncode == 2


def test_db_commands() -> None:
    from assay.db.migrate import head_revision

    head = head_revision()
    assert ok("db", "current").strip() == f"{head} up to date"
    first = ok("db", "upgrade")
    assert f"database at revision {head}" in first
    assert "framework nist-csf-2.0 2.0: created" in first
    assert "created" not in ok("db", "upgrade")  # built-in content loads once
