"""`assay audit` with storage: runs stored on assets from the CLI, read back, diffed, suggested
from; and agent mode, which posts a run to a real server over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.accounts.service import create_token
from assay.audit.models import AuditRunRecord, Collector
from assay.auditlog.models import AuditEvent
from assay.cli.main import app
from assay.tenancy.models import Role
from tests.factories import World
from tests.live_server import serving

runner = CliRunner()
OPERATOR = "it-operator@client-a.test"


def assay(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tiny root: a host name and account files (empty password for `nobody`)."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("web1.client-a.test\n")
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/x\n"
    )
    (root / "etc/shadow").write_text("root:$6$salt$hash:19000:0:99999:7:::\nnobody::19000::::::\n")
    (root / "etc/group").write_text("root:x:0:\n")
    for name, mode in (("passwd", 0o644), ("shadow", 0o640), ("group", 0o644)):
        (root / "etc" / name).chmod(mode)
    return root


def _runs(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditRunRecord)) or 0


def test_a_run_is_stored_read_diffed_and_suggests_answers(
    session: Session, world: World, tree: Path
) -> None:
    common = ("--root", str(tree), "--area", "accounts", "--org", "client-a", "--as", OPERATOR)
    code, out, err = assay("audit", "host", *common, "--json")
    assert code == 0, err
    first = json.loads(out)
    stored = first["stored"]
    assert stored["asset"] == "Web server 1"  # found by the tree's /etc/hostname
    assert stored["collected_by"] == "operator" and stored["digest"] == first["digest"]
    (tree / "etc/shadow").write_text("root:$6$salt$hash:19000:0:99999:7:::\n")
    code, out, err = assay("audit", "host", *common, "--asset", "Web server 1", "--json")
    assert code == 0, err
    second = json.loads(out)["stored"]["id"]

    code, out, _ = assay("audit", "runs", "--org", "client-a", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["total"] == 2
    assert [r["id"] for r in listed["items"]] == [second, stored["id"]]
    code, out, _ = assay("audit", "show", str(second), "--json")
    shown = json.loads(out)
    assert code == 0 and shown["organization"] == "client-a"
    assert {r["check"] for r in shown["results"]} == {r["id"] for r in first["results"]}
    code, out, _ = assay("audit", "diff", str(stored["id"]), str(second), "--json")
    drift = json.loads(out)
    assert code == 0
    assert {
        "check": "accounts.no_empty_passwords",
        "kind": "fixed",
        "before": "fail",
        "after": "pass",
    } in drift["changes"]
    code, out, _ = assay("audit", "fleet", "--org", "client-a", "--json")
    fleet = {row["asset"]: row["latest"] for row in json.loads(out)}
    assert fleet["Web server 1"]["id"] == second and fleet["Database"] is None
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "audit_run.store"))
    assert {e.via for e in event} == {"cli"}


def test_storing_needs_a_known_asset_and_a_member(
    world: World, tree: Path, session: Session
) -> None:
    base = ("audit", "host", "--root", str(tree), "--area", "accounts", "--org", "client-a")
    code, _, err = assay(*base, "--asset", "nope", "--as", OPERATOR)
    assert code == 1 and "asset 'nope' not found" in err
    code, _, err = assay(*base, "--as", "executive@client-a.test")
    assert code == 1 and "executive" in err
    code, _, err = assay(*base, "--as", "admin@client-b.test")
    assert code == 1 and "not found" in err
    assert _runs(session) == 0
    code, _, err = assay("audit", "host", "--root", str(tree), "--as", OPERATOR)
    assert code == 2 and "--as needs --org" in err


# --- agent mode --------------------------------------------------------------------------------


@pytest.fixture
def server(world: World) -> Iterator[str]:
    with serving() as base:
        yield base


def _token(session: Session, world: World, slug: str, role: Role) -> str:
    created = create_token(
        session,
        world.actor(slug, role),
        user_email=world.user(slug, role).email,
        org_slug=slug,
        name=f"agent {slug} {role.value}",
    )
    session.commit()
    return created.secret


def test_an_agent_posts_its_run_to_the_server(
    session: Session, world: World, tree: Path, server: str
) -> None:
    token = _token(session, world, "client-a", Role.IT_OPERATOR)
    base = ("audit", "host", "--root", str(tree), "--area", "accounts", "--submit", server)
    code, out, err = assay(*base, "--token", token, "--json")
    assert code == 0, err
    stored: dict[str, Any] = json.loads(out)["stored"]
    assert stored["asset"] == "Web server 1" and stored["collected_by"] == "operator"
    assert stored["via"] == "api"
    auditor = _token(session, world, "sentinel", Role.AUDITOR)
    code, out, err = assay(*base, "--token", auditor, "--org", "client-a", "--json")
    assert code == 0, err
    assert json.loads(out)["stored"]["collected_by"] == "auditor"
    session.expire_all()
    kinds = set(session.scalars(select(AuditRunRecord.collected_by)))
    assert kinds == {Collector.OPERATOR, Collector.AUDITOR}


def test_the_server_refuses_what_it_should(
    session: Session, world: World, tree: Path, server: str
) -> None:
    base = ("audit", "host", "--root", str(tree), "--area", "accounts", "--submit", server)
    code, _, err = assay(*base, "--token", "assay_not-a-token")
    assert code == 1 and "401" in err
    token = _token(session, world, "client-a", Role.IT_OPERATOR)
    code, _, err = assay(*base, "--token", token, "--asset", "web1.client-b.test")
    assert code == 1 and "404" in err and "not found" in err
    code, _, err = assay(*base, "--token", token, "--org", "client-b")
    assert code == 1 and "404" in err
    stranger = _token(session, world, "watchtower", Role.AUDITOR)
    code, _, err = assay(*base, "--token", stranger, "--org", "client-a")
    assert code == 1 and "404" in err
    executive = _token(session, world, "client-a", Role.EXECUTIVE)
    code, _, err = assay(*base, "--token", executive)
    assert code == 1 and "403" in err
    assert _runs(session) == 0
    code, _, err = assay(*base)
    assert code == 2 and "--token" in err
    code, _, err = assay(
        "audit", "host", "--root", str(tree), "--submit", "ftp://x", "--token", token
    )
    assert code == 1 and "http(s) URL" in err
