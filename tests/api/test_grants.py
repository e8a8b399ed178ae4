"""Auditor grants: listing, granting and revoking an auditor firm's access to a client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from assay.db.engine import unit_of_work
from assay.tenancy.models import AuditorGrant, Role
from tests.api.support import AuthFor, assert_problem, audit_actions, snapshot
from tests.factories import World

V1 = "/api/v1"


def grants_url(slug: str) -> str:
    return f"{V1}/orgs/{slug}/auditor-grants"


def sentinel_grant_id(engine: Engine, world: World) -> int:
    with unit_of_work(engine) as db:
        query = select(AuditorGrant.id).where(
            AuditorGrant.auditor_org_id == world.orgs["sentinel"].id
        )
        return db.scalars(query).one()


@pytest.mark.parametrize(
    ("slug", "role", "status"),
    [
        ("northwind", Role.ADMIN, 200),
        ("northwind", Role.AUDITOR, 200),
        ("northwind", Role.IT_OPERATOR, 403),
        ("northwind", Role.EXECUTIVE, 403),
        ("client-a", Role.ADMIN, 200),
        ("client-a", Role.EXECUTIVE, 200),
        ("client-a", Role.IT_OPERATOR, 403),
        ("sentinel", Role.AUDITOR, 200),
        ("sentinel", Role.EXECUTIVE, 403),
        ("watchtower", Role.ADMIN, 404),
    ],
)
def test_who_may_list_grants_on_client_a(
    client: TestClient, world: World, auth: AuthFor, slug: str, role: Role, status: int
) -> None:
    response = client.get(grants_url("client-a"), headers=auth(slug, role))
    if status != 200:
        assert_problem(response, status)
        return
    page = response.json()
    assert page["total"] == 1
    (grant,) = page["items"]
    assert grant["client"] == "client-a"
    assert grant["auditor"] == "sentinel"
    assert grant["auditor_name"] == world.orgs["sentinel"].name
    assert grant["revoked_at"] is None


def test_a_firm_lists_the_grants_it_holds(client: TestClient, auth: AuthFor) -> None:
    page = client.get(grants_url("sentinel"), headers=auth("sentinel", Role.ADMIN)).json()
    assert [(g["client"], g["auditor"]) for g in page["items"]] == [("client-a", "sentinel")]
    empty = client.get(grants_url("watchtower"), headers=auth("watchtower", Role.ADMIN)).json()
    assert empty == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_msp_admin_grants_and_the_firm_gains_access(
    client: TestClient, engine: Engine, auth: AuthFor
) -> None:
    watcher = auth("watchtower", Role.AUDITOR)
    assert_problem(client.get(f"{V1}/orgs/client-b", headers=watcher), 404)
    response = client.post(
        grants_url("client-b"),
        headers=auth("northwind", Role.ADMIN),
        json={"auditor": "watchtower"},
    )
    assert response.status_code == 201, response.text
    grant = response.json()
    assert (grant["client"], grant["auditor"]) == ("client-b", "watchtower")
    assert audit_actions(engine)[-1] == "grant.create"
    assert client.get(f"{V1}/orgs/client-b", headers=watcher).status_code == 200
    slugs = {o["slug"] for o in client.get(f"{V1}/orgs", headers=watcher).json()["items"]}
    assert slugs == {"watchtower", "client-b"}


@pytest.mark.parametrize(
    ("slug", "role", "auditor", "status"),
    [
        ("northwind", Role.ADMIN, "sentinel", 409),  # already granted
        ("northwind", Role.ADMIN, "northwind", 422),  # not an auditor firm
        ("northwind", Role.ADMIN, "nobody", 404),
        ("northwind", Role.IT_OPERATOR, "watchtower", 403),
        ("client-a", Role.ADMIN, "watchtower", 403),  # a client does not pick its auditors
        ("sentinel", Role.ADMIN, "watchtower", 403),
        ("watchtower", Role.ADMIN, "watchtower", 404),
        ("otherco", Role.ADMIN, "watchtower", 404),
    ],
)
def test_grant_refusals(
    client: TestClient,
    engine: Engine,
    auth: AuthFor,
    slug: str,
    role: Role,
    auditor: str,
    status: int,
) -> None:
    headers = auth(slug, role)
    before = snapshot(engine)
    response = client.post(grants_url("client-a"), headers=headers, json={"auditor": auditor})
    assert_problem(response, status)
    assert snapshot(engine) == before


def test_msp_admin_revokes_and_the_firm_loses_access(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    grant_id = sentinel_grant_id(engine, world)
    firm = auth("sentinel", Role.AUDITOR)
    assert client.get(f"{V1}/orgs/client-a", headers=firm).status_code == 200
    headers = auth("northwind", Role.ADMIN)
    response = client.delete(f"{grants_url('client-a')}/{grant_id}", headers=headers)
    assert response.status_code == 204
    assert audit_actions(engine)[-1] == "grant.revoke"
    assert_problem(client.get(f"{V1}/orgs/client-a", headers=firm), 404)
    assert client.get(grants_url("client-a"), headers=headers).json()["total"] == 0
    assert_problem(client.delete(f"{grants_url('client-a')}/{grant_id}", headers=headers), 404)


@pytest.mark.parametrize(
    ("slug", "role", "status"),
    [
        ("client-a", Role.ADMIN, 403),
        ("sentinel", Role.ADMIN, 403),  # a firm cannot drop (or keep) its own grant
        ("northwind", Role.AUDITOR, 403),
        ("otherco", Role.ADMIN, 404),
    ],
)
def test_revoke_refusals(
    client: TestClient,
    engine: Engine,
    world: World,
    auth: AuthFor,
    slug: str,
    role: Role,
    status: int,
) -> None:
    grant_id = sentinel_grant_id(engine, world)
    headers = auth(slug, role)
    before = snapshot(engine)
    response = client.delete(f"{grants_url('client-a')}/{grant_id}", headers=headers)
    assert_problem(response, status)
    assert snapshot(engine) == before


def test_grant_must_belong_to_the_client_in_the_path(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    grant_id = sentinel_grant_id(engine, world)
    headers = auth("northwind", Role.ADMIN)
    before = snapshot(engine)
    response = client.delete(f"{grants_url('client-b')}/{grant_id}", headers=headers)
    assert_problem(response, 404)
    assert snapshot(engine) == before
