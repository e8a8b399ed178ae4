"""`assay demo` seeds risk registers once: FAIR estimates, controls of the CIS assessment, an
accepted risk, and a verification gap to show."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from assay.auditlog.service import verify_chain
from assay.cli.main import app
from assay.risk.models import Risk, RiskAcceptance, RiskControl
from tests.factories import SYSTEM

runner = CliRunner()


def test_demo_risks_are_seeded_once(session: Session) -> None:
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.stderr
    assert "contoso-dental: 3 risks in the register" in first.stdout
    assert "fabrikam-logistics: 2 risks in the register" in first.stdout
    session.rollback()
    counted = [
        session.scalar(select(func.count()).select_from(m))
        for m in (Risk, RiskControl, RiskAcceptance)
    ]
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0 and "risks in the register" not in second.stdout
    session.rollback()
    assert [
        session.scalar(select(func.count()).select_from(m))
        for m in (Risk, RiskControl, RiskAcceptance)
    ] == counted
    assert counted == [5, 12, 1]
    listed = json.loads(
        runner.invoke(app, ["risk", "list", "--org", "contoso-dental", "--json"]).stdout
    )
    assert {r["status"] for r in listed["items"]} == {"mitigating", "open", "accepted"}
    shown = runner.invoke(
        app, ["risk", "portfolio", "--org", "northwind-it", "--iterations", "5000", "--json"]
    )
    portfolio = json.loads(shown.stdout)
    assert portfolio["risks"] == 5 and portfolio["verification_gap"]["mean"] > 0
    assert verify_chain(session, SYSTEM).intact
