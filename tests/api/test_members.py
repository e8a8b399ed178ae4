"""Members of an organization: listing, adding (and creating users), changing roles, removing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from assay.accounts.models import User
from assay.accounts.secrets import verify_password
from assay.db.engine import unit_of_work
from assay.tenancy.models import Membership, Role
from tests.api.support import AuthFor, assert_problem, audit_actions, snapshot
from tests.factories import World

V1 = "/api/v1"


def members_url(slug: str) -> str:
    return f"{V1}/orgs/{slug}/members"


@pytest.mark.parametrize(
    ("slug", "role", "status"),
    [
        ("client-a", Role.ADMIN, 200),
        ("client-a", Role.IT_OPERATOR, 200),
        ("client-a", Role.AUDITOR, 200),
        ("client-a", Role.EXECUTIVE, 200),
        ("northwind", Role.ADMIN, 200),
        ("northwind", Role.IT_OPERATOR, 200),
        ("northwind", Role.AUDITOR, 200),
        ("northwind", Role.EXECUTIVE, 403),  # an MSP executive sees its own org only
        ("sentinel", Role.ADMIN, 200),
        ("sentinel", Role.AUDITOR, 200),
        ("sentinel", Role.IT_OPERATOR, 403),
        ("sentinel", Role.EXECUTIVE, 403),
        ("otherco", Role.ADMIN, 404),
    ],
)
def test_who_may_list_client_a_members(
    client: TestClient, auth: AuthFor, slug: str, role: Role, status: int
) -> None:
    response = client.get(members_url("client-a"), headers=auth(slug, role))
    if status != 200:
        assert_problem(response, status)
        return
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 4
    emails = [m["user"]["email"] for m in page["items"]]
    assert emails == sorted(emails)
    assert all(e.endswith("@client-a.test") for e in emails)
    assert {m["role"] for m in page["items"]} == {r.value for r in Role}
    assert "password" not in response.text


def test_admin_adds_an_existing_user(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    email = world.user("northwind", Role.IT_OPERATOR).email  # within the MSP admin's reach
    body = {"email": email.upper(), "role": "auditor"}
    response = client.post(
        members_url("client-a"), headers=auth("northwind", Role.ADMIN), json=body
    )
    assert response.status_code == 201, response.text
    member = response.json()
    assert member["user"]["email"] == email
    assert member["role"] == "auditor"
    assert member["initial_password"] is None
    assert audit_actions(engine)[-1] == "member.add"
    with unit_of_work(engine) as db:
        assert db.get(Membership, member["id"]) is not None


def test_admin_creates_a_user_and_gets_its_password_once(
    client: TestClient, engine: Engine, auth: AuthFor
) -> None:
    headers = auth("northwind", Role.ADMIN)
    body = {"email": "newcomer@client-b.test", "role": "executive", "name": "New Comer"}
    response = client.post(members_url("client-b"), headers=headers, json=body)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    password = response.json()["initial_password"]
    assert password
    with unit_of_work(engine) as db:
        user = db.scalars(select(User).where(User.email == "newcomer@client-b.test")).one()
        assert verify_password(user.password_hash, password)
        assert password not in user.password_hash
    assert audit_actions(engine)[-2:] == ["user.create", "member.add"]
    listed = client.get(members_url("client-b"), headers=headers)
    assert password not in listed.text
    events = client.get(f"{V1}/orgs/client-b/audit-events", headers=headers)
    assert password not in events.text


def test_unknown_user_without_a_name_is_404(
    client: TestClient, engine: Engine, auth: AuthFor
) -> None:
    headers = auth("client-a", Role.ADMIN)
    before = snapshot(engine)
    body = {"email": "ghost@example.test", "role": "executive"}
    response = client.post(members_url("client-a"), headers=headers, json=body)
    assert "not found" in assert_problem(response, 404)["detail"]
    assert snapshot(engine) == before


def test_admin_changes_a_role(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    email = world.user("client-a", Role.EXECUTIVE).email
    headers = auth("client-a", Role.ADMIN)
    response = client.post(
        members_url("client-a"), headers=headers, json={"email": email, "role": "it_operator"}
    )
    assert response.status_code == 201
    assert response.json()["role"] == "it_operator"
    assert response.json()["id"] == world.memberships[("client-a", Role.EXECUTIVE)].id
    assert audit_actions(engine)[-1] == "member.role_change"
    again = client.post(
        members_url("client-a"), headers=headers, json={"email": email, "role": "it_operator"}
    )
    assert_problem(again, 409)


@pytest.mark.parametrize(
    ("slug", "role", "status"),
    [
        ("client-a", Role.IT_OPERATOR, 403),
        ("client-a", Role.AUDITOR, 403),
        ("client-a", Role.EXECUTIVE, 403),
        ("northwind", Role.IT_OPERATOR, 403),
        ("sentinel", Role.ADMIN, 403),  # granted firms audit, they do not manage people
        ("watchtower", Role.ADMIN, 404),
    ],
)
def test_who_may_not_add_members(
    client: TestClient,
    engine: Engine,
    world: World,
    auth: AuthFor,
    slug: str,
    role: Role,
    status: int,
) -> None:
    headers = auth(slug, role)
    before = snapshot(engine)
    existing = {"email": world.user("northwind", Role.AUDITOR).email, "role": "admin"}
    new = {"email": "made-up@example.test", "role": "admin", "name": "Made Up"}
    for body in (existing, new):
        assert_problem(client.post(members_url("client-a"), headers=headers, json=body), status)
    assert snapshot(engine) == before


def test_nobody_changes_their_own_membership(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    headers = auth("client-a", Role.ADMIN)
    own = world.memberships[("client-a", Role.ADMIN)]
    before = snapshot(engine)
    body = {"email": world.user("client-a", Role.ADMIN).email, "role": "executive"}
    problem = assert_problem(client.post(members_url("client-a"), headers=headers, json=body), 403)
    assert "separation of duties" in problem["detail"]
    assert_problem(client.delete(f"{members_url('client-a')}/{own.id}", headers=headers), 403)
    assert snapshot(engine) == before


def test_msp_admin_removes_a_client_member(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    membership = world.memberships[("client-a", Role.IT_OPERATOR)]
    headers = auth("northwind", Role.ADMIN)
    response = client.delete(f"{members_url('client-a')}/{membership.id}", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    assert audit_actions(engine)[-1] == "member.remove"
    with unit_of_work(engine) as db:
        assert db.get(Membership, membership.id) is None
    again = client.delete(f"{members_url('client-a')}/{membership.id}", headers=headers)
    assert_problem(again, 404)


@pytest.mark.parametrize(
    ("slug", "role", "status"),
    [
        ("client-a", Role.IT_OPERATOR, 403),
        ("client-a", Role.EXECUTIVE, 403),
        ("sentinel", Role.AUDITOR, 403),
        ("otherco", Role.ADMIN, 404),
    ],
)
def test_who_may_not_remove_members(
    client: TestClient,
    engine: Engine,
    world: World,
    auth: AuthFor,
    slug: str,
    role: Role,
    status: int,
) -> None:
    membership = world.memberships[("client-a", Role.AUDITOR)]
    headers = auth(slug, role)
    before = snapshot(engine)
    response = client.delete(f"{members_url('client-a')}/{membership.id}", headers=headers)
    assert_problem(response, status)
    assert snapshot(engine) == before


def test_membership_must_belong_to_the_org_in_the_path(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    """northwind's admin manages both clients, but a client-b membership is not client-a's."""
    membership = world.memberships[("client-b", Role.AUDITOR)]
    headers = auth("northwind", Role.ADMIN)
    before = snapshot(engine)
    response = client.delete(f"{members_url('client-a')}/{membership.id}", headers=headers)
    assert_problem(response, 404)
    assert snapshot(engine) == before


def test_admin_cannot_pull_in_another_tenants_user(
    client: TestClient, engine: Engine, world: World, auth: AuthFor
) -> None:
    headers = auth("client-a", Role.ADMIN)
    before = audit_actions(engine)
    body = {"email": world.user("sentinel", Role.AUDITOR).email, "role": "auditor"}
    response = client.post(members_url("client-a"), headers=headers, json=body)
    assert response.status_code == 403
    assert "outside your reach" in response.json()["detail"]
    assert audit_actions(engine) == before
