"""GET /me and the organization endpoints."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from assay.tenancy.models import Role
from tests.api.support import AuthFor, assert_problem, audit_actions, snapshot
from tests.factories import World

V1 = "/api/v1"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_me_describes_the_caller(
    client: TestClient, world: World, auth: AuthFor, role: Role
) -> None:
    response = client.get(f"{V1}/me", headers=auth("sentinel", role))
    assert response.status_code == 200
    me = response.json()
    user = world.user("sentinel", role)
    assert me["user"] == {"id": user.id, "email": user.email, "name": user.name}
    assert me["organization"]["slug"] == "sentinel"
    assert me["organization"]["kind"] == "auditor"
    assert me["role"] == role.value
    assert "password" not in response.text


def test_get_org_shows_a_visible_org(client: TestClient, world: World, auth: AuthFor) -> None:
    response = client.get(f"{V1}/orgs/client-a", headers=auth("sentinel", Role.AUDITOR))
    assert response.status_code == 200
    org = response.json()
    assert org["slug"] == "client-a"
    assert org["name"] == world.orgs["client-a"].name
    assert org["kind"] == "client"
    assert org["parent"] == "northwind"
    assert org["id"] == world.orgs["client-a"].id


def test_get_org_hides_unreachable_and_unknown_orgs_alike(
    client: TestClient, auth: AuthFor
) -> None:
    headers = auth("northwind", Role.ADMIN)
    hidden = assert_problem(client.get(f"{V1}/orgs/client-z", headers=headers), 404)
    unknown = assert_problem(client.get(f"{V1}/orgs/no-such-org", headers=headers), 404)
    assert hidden["detail"] == "organization 'client-z' not found"
    assert unknown["detail"] == "organization 'no-such-org' not found"


def test_msp_admin_creates_a_client(client: TestClient, engine: Engine, auth: AuthFor) -> None:
    headers = auth("northwind", Role.ADMIN)
    body = {"slug": "client-c", "name": "Client C Ltd", "parent": "northwind"}
    response = client.post(f"{V1}/orgs", headers=headers, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["slug"] == "client-c"
    assert created["kind"] == "client"
    assert created["parent"] == "northwind"
    assert audit_actions(engine)[-1] == "org.create"
    listed = client.get(f"{V1}/orgs", headers=headers).json()
    assert "client-c" in {o["slug"] for o in listed["items"]}


@pytest.mark.parametrize(
    ("slug", "role", "parent", "status"),
    [
        ("northwind", Role.IT_OPERATOR, "northwind", 403),
        ("northwind", Role.AUDITOR, "northwind", 403),
        ("northwind", Role.EXECUTIVE, "northwind", 403),
        ("northwind", Role.ADMIN, "otherco", 404),
        ("otherco", Role.ADMIN, "northwind", 404),
        ("client-a", Role.ADMIN, "northwind", 404),
        ("sentinel", Role.ADMIN, "northwind", 404),
        ("northwind", Role.ADMIN, "client-a", 422),
        ("northwind", Role.ADMIN, "sentinel", 422),
        ("northwind", Role.ADMIN, "nowhere", 404),
    ],
)
def test_create_org_refusals(
    client: TestClient,
    engine: Engine,
    auth: AuthFor,
    slug: str,
    role: Role,
    parent: str,
    status: int,
) -> None:
    headers = auth(slug, role)
    before = snapshot(engine)
    body = {"slug": "client-c", "name": "Client C", "parent": parent}
    assert_problem(client.post(f"{V1}/orgs", headers=headers, json=body), status)
    assert snapshot(engine) == before


def test_create_org_with_taken_slug_is_409(
    client: TestClient, engine: Engine, auth: AuthFor
) -> None:
    headers = auth("northwind", Role.ADMIN)
    before = snapshot(engine)
    body = {"slug": "client-a", "name": "Again", "parent": "northwind"}
    problem = assert_problem(client.post(f"{V1}/orgs", headers=headers, json=body), 409)
    assert problem["type"] == "urn:assay:problem:conflict"
    assert snapshot(engine) == before


def test_list_orgs_for_a_client_executive(client: TestClient, auth: AuthFor) -> None:
    page = client.get(f"{V1}/orgs", headers=auth("client-a", Role.EXECUTIVE)).json()
    assert [o["slug"] for o in page["items"]] == ["client-a"]
    assert page["total"] == 1
