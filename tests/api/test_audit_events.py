"""GET /orgs/{slug}/audit-events: the trail of one organization, for those who may read it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assay.tenancy.models import Role
from tests.api.support import AuthFor, assert_problem
from tests.factories import World

V1 = "/api/v1"


def test_changes_made_through_the_api_are_in_the_trail(
    client: TestClient, world: World, auth: AuthFor
) -> None:
    msp = auth("northwind", Role.ADMIN)
    email = world.user("northwind", Role.IT_OPERATOR).email
    client.post(f"{V1}/orgs/client-b/auditor-grants", headers=msp, json={"auditor": "watchtower"})
    member = client.post(
        f"{V1}/orgs/client-b/members", headers=msp, json={"email": email, "role": "auditor"}
    ).json()
    client.delete(f"{V1}/orgs/client-b/members/{member['id']}", headers=msp)
    page = client.get(f"{V1}/orgs/client-b/audit-events", headers=msp).json()
    actions = [e["action"] for e in page["items"]]
    assert actions == ["member.remove", "member.add", "grant.create"]  # newest first
    newest = page["items"][0]
    assert newest["actor_label"] == world.user("northwind", Role.ADMIN).email
    assert newest["via"] == "api"
    assert newest["object_type"] == "membership"
    assert newest["detail"]["user"] == email
    assert newest["prev_hash"] == page["items"][1]["hash"]
    assert page["total"] == 3


def test_token_events_belong_to_the_token_org(client: TestClient, auth: AuthFor) -> None:
    executive = auth("client-a", Role.EXECUTIVE)
    page = client.get(f"{V1}/orgs/client-a/audit-events", headers=executive).json()
    assert [e["action"] for e in page["items"]] == ["token.create"]


@pytest.mark.parametrize(
    ("slug", "role", "status"),
    [
        ("client-a", Role.ADMIN, 200),
        ("client-a", Role.AUDITOR, 200),
        ("client-a", Role.EXECUTIVE, 200),
        ("client-a", Role.IT_OPERATOR, 403),
        ("northwind", Role.ADMIN, 200),
        ("northwind", Role.AUDITOR, 200),
        ("northwind", Role.EXECUTIVE, 403),
        ("northwind", Role.IT_OPERATOR, 403),
        ("sentinel", Role.AUDITOR, 200),
        ("sentinel", Role.ADMIN, 403),  # a firm's admin manages the firm, not audits
        ("sentinel", Role.EXECUTIVE, 403),
        ("watchtower", Role.AUDITOR, 404),
        ("otherco", Role.ADMIN, 404),
    ],
)
def test_who_may_read_client_a_trail(
    client: TestClient, auth: AuthFor, slug: str, role: Role, status: int
) -> None:
    response = client.get(f"{V1}/orgs/client-a/audit-events", headers=auth(slug, role))
    if status == 200:
        assert response.status_code == 200
        assert set(response.json()) == {"items", "total", "limit", "offset"}
    else:
        assert_problem(response, status)
