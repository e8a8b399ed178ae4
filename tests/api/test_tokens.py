"""Personal API tokens: issued to the caller with the secret shown once, listed, revoked."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from assay.accounts.models import ApiToken
from assay.db.engine import unit_of_work
from assay.tenancy.models import Role
from tests.api.support import AuthFor, assert_problem, audit_actions, bearer, snapshot
from tests.factories import World

TOKENS = "/api/v1/tokens"


def test_created_token_secret_is_shown_once_and_only_its_hash_is_stored(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    headers = auth("client-a", Role.IT_OPERATOR)
    response = client.post(TOKENS, headers=headers, json={"name": "ci", "expires_in_days": 30})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    issued = response.json()
    secret = issued["secret"]
    assert secret.startswith("assay_") and len(secret) > 40
    token = issued["token"]
    assert token["name"] == "ci"
    assert token["user_id"] == world.user("client-a", Role.IT_OPERATOR).id
    assert token["organization_id"] == world.orgs["client-a"].id
    assert token["expires_at"] is not None
    assert secret.startswith(token["prefix"])
    with unit_of_work(engine) as db:
        stored = db.get(ApiToken, token["id"])
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        dump = " ".join(str(row) for row in db.execute(text("SELECT * FROM api_tokens")))
        events = " ".join(str(row) for row in db.execute(text("SELECT * FROM audit_events")))
    assert secret not in dump and secret not in events
    assert audit_actions(engine)[-1] == "token.create"
    # never shown again
    listed = client.get(TOKENS, headers=headers)
    assert secret not in listed.text
    assert token["id"] in {t["id"] for t in listed.json()["items"]}
    # and it works
    me = client.get("/api/v1/me", headers=bearer(secret)).json()
    assert (me["user"]["email"], me["organization"]["slug"]) == (
        world.user("client-a", Role.IT_OPERATOR).email,
        "client-a",
    )


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_role_may_create_its_own_tokens(
    client: TestClient, auth: AuthFor, role: Role
) -> None:
    response = client.post(TOKENS, headers=auth("watchtower", role), json={"name": "mine"})
    assert response.status_code == 201


def test_listing_scope_own_for_users_org_wide_for_admins(
    client: TestClient, world: World, auth: AuthFor
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    admin = auth("client-a", Role.ADMIN)
    executive = auth("client-a", Role.EXECUTIVE)
    operator_user = world.user("client-a", Role.IT_OPERATOR).id
    admin_user = world.user("client-a", Role.ADMIN).id
    mine = client.get(TOKENS, headers=operator).json()
    assert {t["user_id"] for t in mine["items"]} == {operator_user}
    org_wide = client.get(TOKENS, headers=admin).json()
    assert {t["user_id"] for t in org_wide["items"]} >= {operator_user, admin_user}
    assert org_wide["total"] == 3
    assert client.get(TOKENS, headers=executive).json()["total"] == 1


def test_revoking_a_token_stops_it_working(
    client: TestClient, engine: Engine, auth: AuthFor
) -> None:
    headers = auth("client-a", Role.EXECUTIVE)
    issued = client.post(TOKENS, headers=headers, json={"name": "short-lived"}).json()
    second = bearer(issued["secret"])
    assert client.get("/api/v1/me", headers=second).status_code == 200
    response = client.delete(f"{TOKENS}/{issued['token']['id']}", headers=headers)
    assert response.status_code == 204
    assert audit_actions(engine)[-1] == "token.revoke"
    assert_problem(client.get("/api/v1/me", headers=second), 401)
    listed = client.get(TOKENS, headers=headers).json()["items"]
    revoked = next(t for t in listed if t["id"] == issued["token"]["id"])
    assert revoked["revoked_at"] is not None
    again = client.delete(f"{TOKENS}/{issued['token']['id']}", headers=headers)
    assert_problem(again, 409)


def test_a_token_can_revoke_itself(client: TestClient, auth: AuthFor) -> None:
    headers = auth("client-a", Role.AUDITOR)
    own_id = client.get(TOKENS, headers=headers).json()["items"][0]["id"]
    assert client.delete(f"{TOKENS}/{own_id}", headers=headers).status_code == 204
    assert_problem(client.get(TOKENS, headers=headers), 401)


def test_admin_revokes_a_colleagues_token_but_not_the_reverse(
    client: TestClient, engine: Engine, auth: AuthFor
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    admin = auth("client-a", Role.ADMIN)
    operator_token = client.get(TOKENS, headers=operator).json()["items"][0]["id"]
    admin_token = next(
        t["id"]
        for t in client.get(TOKENS, headers=admin).json()["items"]
        if t["id"] != operator_token
    )
    before = snapshot(engine)
    assert_problem(client.delete(f"{TOKENS}/{admin_token}", headers=operator), 404)
    assert snapshot(engine) == before
    assert client.delete(f"{TOKENS}/{operator_token}", headers=admin).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=operator), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "expires_in_days": 0},
        {"name": "x", "expires_in_days": 3651},
        {"name": "x", "expires_in_days": "soon"},
        {"name": ""},
        {"name": "n" * 101},
        {},
        {"name": "x", "user": "admin@client-b.test"},
        {"name": "x", "organization": "client-b"},
    ],
    ids=["zero-days", "too-many-days", "days-text", "empty", "long", "no-name", "user", "org"],
)
def test_invalid_token_requests_are_422_and_change_nothing(
    client: TestClient, engine: Engine, auth: AuthFor, body: dict[str, object]
) -> None:
    headers = auth("client-a", Role.ADMIN)
    before = snapshot(engine)
    problem = assert_problem(client.post(TOKENS, headers=headers, json=body), 422)
    assert problem["errors"]
    assert snapshot(engine) == before


def test_whitespace_name_is_refused_by_the_service(
    client: TestClient, engine: Engine, auth: AuthFor
) -> None:
    headers = auth("client-a", Role.ADMIN)
    before = snapshot(engine)
    problem = assert_problem(client.post(TOKENS, headers=headers, json={"name": "   "}), 422)
    assert problem["type"] == "urn:assay:problem:invalid-input"
    assert snapshot(engine) == before
