"""A member of client-a, whatever their role, gets 404 and never data for client-b's objects.

The routes come from the app's route table: every page route with a path parameter is tried,
and a parameter this test does not know fails it loudly, so future routes are covered.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.accounts.service import create_token
from assay.app import create_app
from assay.tenancy.models import AuditorGrant, Role
from tests.factories import SYSTEM, World
from tests.web.support import fill, path_params, sign_in, snapshot, web_routes

ROUTES = [(method, path) for method, path in web_routes(create_app()) if path_params(path)]
ROLES = list(Role)

# Enough for any of our forms to do something if the request were allowed.
FORM = {
    "email": "admin@client-a.test",
    "role": "auditor",
    "slug": "client-c",
    "name": "Client C",
    "auditor": "sentinel",
    "expires_in_days": "30",
}


def client_b_objects(session: Session, world: World) -> dict[str, object]:
    """One object of every kind that belongs to client-b."""
    grant = AuditorGrant(
        organization_id=world.orgs["client-b"].id, auditor_org_id=world.orgs["watchtower"].id
    )
    session.add(grant)
    session.flush()
    token = create_token(
        session, SYSTEM, user_email="admin@client-b.test", org_slug="client-b", name="b"
    )
    values: dict[str, object] = {
        "slug": "client-b",
        "grant_id": grant.id,
        "membership_id": world.memberships[("client-b", Role.ADMIN)].id,
        "token_id": token.token.id,
    }
    session.commit()
    return values


def assert_no_client_b_data(html: str) -> None:
    assert "@client-b.test" not in html
    assert "Client B" not in html
    assert "watchtower" not in html.lower()


def test_the_route_table_has_routes_with_parameters() -> None:
    assert ("GET", "/orgs/{slug}") in ROUTES
    assert len(ROUTES) >= 8


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_client_a_members_get_404_for_client_b(
    method: str,
    path: str,
    role: Role,
    app: FastAPI,
    client: TestClient,
    world: World,
    session: Session,
    engine: Engine,
) -> None:
    values = client_b_objects(session, world)
    token = sign_in(client, world.user("client-a", role).email)
    url = fill(path, values)
    before = snapshot(engine)
    if method == "GET":
        response = client.get(url)
        assert response.status_code == 404, response.text
        assert_no_client_b_data(response.text)
        return
    assert method == "POST", f"no isolation check written for {method} {path}"
    # the organization named in a form field: client-b itself, then the member's own
    for org in ("client-b", "client-a"):
        response = client.post(url, data={**FORM, "org": org, "csrf_token": token})
        assert response.status_code == 404, (org, response.text)
        assert_no_client_b_data(response.text)
        assert snapshot(engine) == before


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_own_org_with_client_b_ids_reveals_nothing(
    role: Role, client: TestClient, world: World, session: Session, engine: Engine
) -> None:
    """Naming one's own organization with another tenant's object ids changes nothing."""
    values = {**client_b_objects(session, world), "slug": "client-a"}
    token = sign_in(client, world.user("client-a", role).email)
    before = snapshot(engine)
    for method, path in ROUTES:
        if method != "POST" or path_params(path) == ["slug"]:
            continue
        response = client.post(
            fill(path, values), data={**FORM, "org": "client-a", "csrf_token": token}
        )
        assert response.status_code in (403, 404), (path, response.text)
        assert_no_client_b_data(response.text)
        assert snapshot(engine) == before
