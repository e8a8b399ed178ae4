"""Every state-changing form refuses a missing, forged or foreign CSRF token and changes nothing.

The routes come from the app's route table: a POST route added later is covered automatically,
and one with a path parameter this test does not know fails loudly. Forms that upload a file
are sent as multipart (their token travels in the multipart body), and nothing is stored.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assay.accounts.service import create_token
from assay.app import create_app
from assay.assets.service import create_asset
from assay.assets.validation import AssetInput
from assay.config import settings
from assay.tenancy.models import AuditorGrant, Role
from tests.factories import PASSWORD, SYSTEM, World, make_assessment
from tests.web.support import csrf_from, fill, sign_in, snapshot, web_routes

POST_ROUTES = [path for method, path in web_routes(create_app()) if method == "POST"]

# A form that would succeed on any of our POST routes for admin@northwind with a valid token.
FORM = {
    "email": "executive@client-b.test",
    "role": "auditor",
    "slug": "client-c",
    "name": "Client C",
    "auditor": "watchtower",
    "org": "northwind",
    "expires_in_days": "30",
}


# Assessment forms: who may use them (default admin@northwind) and the fields they need.
SIGNERS = {
    "/assessments/{assessment_id}/answers/{answer_id}/verify": "auditor@sentinel.test",
    "/assessments/{assessment_id}/answers/{answer_id}/reject": "auditor@sentinel.test",
}
FORMS: dict[str, dict[str, str]] = {
    "/orgs/{slug}/assessments": {"framework": "cis-controls-v8.1", "target_ig": "1"},
    "/assessments/{assessment_id}/answers": {"control": "1.2", "status": "fully"},
    "/assessments/{assessment_id}/answers/{answer_id}/evidence": {"collected_on": "2026-01-05"},
    "/assessments/{assessment_id}/answers/{answer_id}/reject": {"comment": "Show the export."},
    "/assessments/{assessment_id}/state": {"state": "in_progress"},
    "/orgs/{slug}/assets": {"kind": "host"},
    "/assets/{asset_id}/edit": {"kind": "data_store", "criticality": "high"},
    "/orgs/{slug}/risks": {"title": "Phishing", "inherent_likelihood": "3", "inherent_impact": "2"},
    "/risks/{risk_id}/edit": {"title": "Other", "inherent_likelihood": "2", "inherent_impact": "1"},
    "/risks/{risk_id}/accept": {
        "reason": "Insured",
        "expires_on": (date.today() + timedelta(days=30)).isoformat(),
    },
}
UPLOADS: dict[str, tuple[str, bytes, str]] = {
    "/assessments/{assessment_id}/answers/{answer_id}/evidence": (
        "report.txt",
        b"scan report",
        "text/plain",
    ),
    "/assessments/{assessment_id}/import": (
        "answers.csv",
        b"control,status,maturity,justification,notes,owner,implemented_by\n2.1,fully,3,,,,\n",
        "text/csv",
    ),
    "/orgs/{slug}/assets/import": ("assets.csv", b"name,kind\nweb9,host\n", "text/csv"),
}


def needs_assessment(path: str) -> bool:
    return "assessment" in path


def path_values(
    request: pytest.FixtureRequest, session: Session, world: World, path: str
) -> dict[str, object]:
    token = create_token(
        session, SYSTEM, user_email="admin@northwind.test", org_slug="northwind", name="ci"
    )
    session.commit()
    grant_id = session.scalar(
        select(AuditorGrant.id).where(AuditorGrant.organization_id == world.orgs["client-a"].id)
    )
    assert grant_id is not None
    session.commit()  # end the read transaction: on SQLite it holds the write lock
    values: dict[str, object] = {
        "slug": "northwind" if path.endswith("/clients") else "client-a",
        "grant_id": grant_id,
        "membership_id": world.memberships[("client-a", Role.IT_OPERATOR)].id,
        "token_id": token.token.id,
        "framework": "cis-controls-v8.1",  # global catalog entries
        "label": "1.1",
    }
    if "{asset_id}" in path:
        asset = create_asset(session, SYSTEM, "client-a", AssetInput("web1", "host"))
        session.commit()
        values["asset_id"] = asset.id
    if "{risk_id}" in path:
        values["risk_id"] = _a_risk(session)
    if needs_assessment(path):
        request.getfixturevalue("catalogs")
        objects = make_assessment(session, world, "client-a")
        values.update(
            assessment_id=objects.assessment_id,
            answer_id=objects.answer_id,
            evidence_id=objects.evidence_id,
        )
    return values


def _a_risk(session: Session) -> int:
    """A risk of client-a (its MSP's admin may change, accept and delete it)."""
    from assay.risk.service import create_risk

    fields = {"title": "Ransomware", "inherent_likelihood": 4, "inherent_impact": 5}
    risk = create_risk(session, SYSTEM, "client-a", fields)
    session.commit()
    return risk.id


def test_the_route_table_has_post_routes() -> None:
    assert "/login" in POST_ROUTES
    assert "/logout" in POST_ROUTES
    assert len(POST_ROUTES) >= 8


def stored_files() -> list[str]:
    root = settings().data_dir / "evidence"
    return sorted(str(p) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize("path", POST_ROUTES)
def test_post_refuses_missing_forged_and_foreign_tokens(
    path: str,
    app: FastAPI,
    client: TestClient,
    world: World,
    session: Session,
    engine: Engine,
    request: pytest.FixtureRequest,
) -> None:
    url = fill(path, path_values(request, session, world, path))
    if path == "/login":
        form = {"email": "admin@northwind.test", "password": PASSWORD}
        page = client.get("/login")
        valid = csrf_from(page.text)
        with TestClient(app, follow_redirects=False) as other:
            foreign = csrf_from(other.get("/login").text)  # bound to another nonce
    else:
        form = {**FORM, **FORMS.get(path, {})}
        signer = SIGNERS.get(path, "admin@northwind.test")
        valid = sign_in(client, signer)
        with TestClient(app, follow_redirects=False) as other:
            foreign = sign_in(other, signer)  # bound to another session
    upload = UPLOADS.get(path)
    files = {"file": upload} if upload else None
    before, files_before = snapshot(engine), stored_files()

    for token in (None, "", secrets.token_hex(32), foreign, valid.upper()):
        data = dict(form)
        if token is not None:
            data["csrf_token"] = token
        response = client.post(url, data=data, files=files)
        assert response.status_code == 403, (token, response.text)
        assert "did not come from this site" in response.text
        assert snapshot(engine) == before
        assert stored_files() == files_before

    # The same request with the right token does change something: the refusals were the token.
    response = client.post(url, data={**form, "csrf_token": valid}, files=files)
    assert response.status_code in (200, 303), response.text
    assert snapshot(engine) != before


def test_a_post_without_any_session_is_refused(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot(engine)
    response = client.post(
        "/orgs/northwind/clients",
        data={"slug": "client-c", "name": "Client C", "csrf_token": secrets.token_hex(32)},
    )
    assert response.status_code == 403
    assert snapshot(engine) == before
