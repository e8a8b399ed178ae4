"""Every state-changing form refuses a missing, forged or foreign CSRF token and changes nothing.

The routes come from the app's route table: a POST route added later is covered automatically,
and one with a path parameter this test does not know fails loudly.
"""

from __future__ import annotations

import secrets

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assay.accounts.service import create_token
from assay.app import create_app
from assay.tenancy.models import AuditorGrant, Role
from tests.factories import PASSWORD, SYSTEM, World
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


def path_values(session: Session, world: World, path: str) -> dict[str, object]:
    token = create_token(
        session, SYSTEM, user_email="admin@northwind.test", org_slug="northwind", name="ci"
    )
    session.commit()
    grant_id = session.scalar(
        select(AuditorGrant.id).where(AuditorGrant.organization_id == world.orgs["client-a"].id)
    )
    assert grant_id is not None
    session.commit()  # end the read transaction: on SQLite it holds the write lock
    return {
        "slug": "northwind" if path.endswith("/clients") else "client-a",
        "grant_id": grant_id,
        "membership_id": world.memberships[("client-a", Role.IT_OPERATOR)].id,
        "token_id": token.token.id,
        "framework": "cis-controls-v8.1",  # global catalog entries
        "label": "1.1",
    }


def test_the_route_table_has_post_routes() -> None:
    assert "/login" in POST_ROUTES
    assert "/logout" in POST_ROUTES
    assert len(POST_ROUTES) >= 8


@pytest.mark.parametrize("path", POST_ROUTES)
def test_post_refuses_missing_forged_and_foreign_tokens(
    path: str, app: FastAPI, client: TestClient, world: World, session: Session, engine: Engine
) -> None:
    url = fill(path, path_values(session, world, path))
    if path == "/login":
        form = {"email": "admin@northwind.test", "password": PASSWORD}
        page = client.get("/login")
        valid = csrf_from(page.text)
        with TestClient(app, follow_redirects=False) as other:
            foreign = csrf_from(other.get("/login").text)  # bound to another nonce
    else:
        form = dict(FORM)
        valid = sign_in(client, "admin@northwind.test")
        with TestClient(app, follow_redirects=False) as other:
            foreign = sign_in(other, "admin@northwind.test")  # bound to another session
    before = snapshot(engine)

    for token in (None, "", secrets.token_hex(32), foreign, valid.upper()):
        data = dict(form)
        if token is not None:
            data["csrf_token"] = token
        response = client.post(url, data=data)
        assert response.status_code == 403, (token, response.text)
        assert "did not come from this site" in response.text
        assert snapshot(engine) == before

    # The same request with the right token does change something: the refusals were the token.
    response = client.post(url, data={**form, "csrf_token": valid})
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
