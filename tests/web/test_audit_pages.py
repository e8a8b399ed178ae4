"""Host audit pages: the fleet and its runs, a run's results with the drift since the asset's
previous run, and an assessment's suggestions from the latest runs. Isolation between tenants
is covered for every route in test_isolation.py."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assay.assess import workflow
from assay.tenancy.models import Role
from tests.factories import World, make_audit_runs
from tests.web.support import sign_in


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_fleet_lists_assets_and_runs(
    client: TestClient, session: Session, world: World
) -> None:
    first, second = make_audit_runs(session, world, "client-a", "Web A", "web.client-a.test")
    sign_in(client, "executive@client-a.test")
    page = client.get("/orgs/client-a/audits")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Web A" in text and f"Run {second}" in text
    assert 'href="/orgs/client-a/audits"' in page.text  # the organization's tab
    assert f'href="/audit-runs/{first}"' in page.text


def test_a_run_shows_failures_first_and_the_drift(
    client: TestClient, session: Session, world: World
) -> None:
    first, second = make_audit_runs(session, world, "client-a", "Web A", "web.client-a.test")
    sign_in(client, "auditor@sentinel.test")  # a granted firm reads runs
    page = client.get(f"/audit-runs/{second}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "accounts.no_empty_passwords" in text and "/etc/shadow:2" in text
    assert f"Since run {first} : 1 broke" in text
    passed = client.get(f"/audit-runs/{second}?status=pass")
    assert "No result with this status" in text_of(passed.text)
    assert client.get(f"/audit-runs/{second}?status=bogus").status_code == 422
    assert "Since run" not in text_of(client.get(f"/audit-runs/{first}").text)


def test_an_assessment_shows_what_the_audits_suggest(
    client: TestClient, session: Session, world: World, catalogs: None
) -> None:
    make_audit_runs(session, world, "client-a", "Web A", "web.client-a.test")
    created = workflow.create_assessment(
        session,
        world.actor("northwind", Role.ADMIN),
        workflow.NewAssessment(
            org_slug="client-a", framework="cis-controls-v8.1", name="CIS", target_ig=1
        ),
    )
    csf = workflow.create_assessment(
        session,
        world.actor("northwind", Role.ADMIN),
        workflow.NewAssessment(org_slug="client-a", framework="nist-csf-2.0", name="CSF"),
    )
    session.commit()
    sign_in(client, "it-operator@client-a.test")
    page = client.get(f"/assessments/{created.id}/suggestions")
    assert page.status_code == 200
    text = text_of(page.text)
    # the latest run failed accounts.no_empty_passwords: CIS 5.2 is suggested not implemented
    assert "5.2" in text and "Not implemented" in text and "0 of 1" in text
    assert "Web A: accounts.no_empty_passwords" in text
    assert "PR.AA-03" in text_of(client.get(f"/assessments/{csf.id}/suggestions").text)
