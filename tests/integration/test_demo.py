"""`assay demo`: the demo assessments (a visible assurance gap) and `--clients N` for benchmarks."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.assess.models import Answer, AnswerEvidence, Assessment, Verification
from assay.assets.models import Asset
from assay.auditlog.models import AuditEvent
from assay.cli.main import app
from assay.tenancy.models import AuditorGrant, Organization

runner = CliRunner()
AUDITOR = "auditor@sentinel.example"
ADMIN = "admin@northwind.example"


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"assay {' '.join(args)}: {result.stderr}"
    return result.stdout


def ok_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json"))


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_demo_assessments_are_idempotent_and_show_an_assurance_gap(session: Session) -> None:
    first = ok("demo")
    assert "contoso-dental: assessment" in first and "fabrikam-logistics: assessment" in first
    assert "contoso-dental: 5 assets in the register" in first
    session.rollback()
    seeded = (count(session, Assessment), count(session, Answer), count(session, Asset))
    second = ok("demo")
    assert "assessment" not in second and "assets in the register" not in second  # nothing new
    session.rollback()
    assert (count(session, Assessment), count(session, Answer), count(session, Asset)) == seeded
    assert seeded[0] == 4 and seeded[2] == 10
    assets = ok_json("asset", "list", "--org", "contoso-dental", "--as", AUDITOR)["items"]
    assert {a["kind"] for a in assets} == {"host", "data_store", "saas", "network_device"}

    contoso = {
        a["framework"] + ":" + a["state"]: a
        for a in ok_json("assess", "list", "--org", "contoso-dental", "--as", AUDITOR)["items"]
    }
    assert set(contoso) == {
        "cis-controls-v8.1:in_review",
        "nist-csf-2.0:closed",
        "nist-csf-2.0:in_progress",
    }
    cis = contoso["cis-controls-v8.1:in_review"]
    assert cis["baseline"] == "ig1"
    score = ok_json("assess", "score", str(cis["id"]), "--as", AUDITOR)
    totals = score["totals"]
    assert totals["verified_count"] > 0
    assert totals["claimed"] > totals["verified"] > 0
    assert totals["assurance_gap"] > 10  # clearly visible
    shown = ok_json("assess", "show", str(cis["id"]), "--as", AUDITOR)
    assert shown["states"]["rejected"] > 0 and shown["states"]["verified"] > 0
    assert sum(q["evidence"] for q in shown["questions"]) > shown["answered"] // 2

    earlier, later = contoso["nist-csf-2.0:closed"], contoso["nist-csf-2.0:in_progress"]
    assert later["previous"] == earlier["id"]
    csf = ok_json("assess", "show", str(earlier["id"]), "--as", AUDITOR)
    assert {q["target"] for q in csf["questions"]} == {3}
    compared = ok_json("assess", "compare", str(earlier["id"]), str(later["id"]), "--as", ADMIN)
    assert compared["summary"]["improved"] > 0 and compared["summary"]["regressed"] > 0

    [fabrikam] = ok_json("assess", "list", "--org", "fabrikam-logistics", "--as", ADMIN)["items"]
    assert fabrikam["state"] == "draft" and 0 < fabrikam["answered"] < 20

    # the people did it, through the services: their acts are in the (intact) audit trail
    session.rollback()
    actors = dict(
        session.execute(
            select(AuditEvent.action, func.min(AuditEvent.actor_label)).group_by(AuditEvent.action)
        ).all()
    )
    assert actors["answer.set"] == "ops@northwind.example"
    assert actors["answer.verify"] == AUDITOR and actors["answer.reject"] == AUDITOR
    assert "intact" in ok("audit-log", "verify")


def test_demo_clients_generates_full_assessments(session: Session) -> None:
    out = ok("demo", "--clients", "3")
    assert "generated 3 clients" in out
    session.rollback()
    slugs = list(
        session.scalars(
            select(Organization.slug)
            .where(Organization.slug.startswith("demo-client-"))
            .order_by(Organization.slug)
        )
    )
    assert slugs == ["demo-client-0001", "demo-client-0002", "demo-client-0003"]
    for slug in slugs:
        [assessment] = ok_json("assess", "list", "--org", slug, "--as", AUDITOR)["items"]
        assert assessment["answered"] == 153 and assessment["baseline"] == "ig3"
        score = ok_json("assess", "score", str(assessment["id"]), "--as", AUDITOR)
        assert score["totals"]["assessed"] == 153 and score["totals"]["answered"] == 153
        assert [g["label"] for g in score["implementation_groups"]] == ["IG1", "IG2", "IG3"]
    generated = list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "demo.generate"))
    )
    assert len(generated) == 3
    assert {e.detail["slug"] for e in generated} == set(slugs)
    assert all(e.detail["answers"] == 153 for e in generated)
    assert count(session, AnswerEvidence) > 0 and count(session, Verification) > 0
    assert count(session, AuditorGrant) == 1 + 3  # Contoso's grant and one per generated client
    assert "intact" in ok("audit-log", "verify")

    again = ok("demo", "--clients", "4")  # existing ones are skipped
    assert "generated 1 client " in again and "(3 already there)" in again
    session.rollback()
    generated_orgs = select(func.count()).where(Organization.slug.startswith("demo-client-"))
    assert session.scalar(generated_orgs) == 4
    assert "intact" in ok("audit-log", "verify")
