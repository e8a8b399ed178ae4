"""limit/offset on every list, the page envelope, and bad paging parameters."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assay.api.pagination import PageRequest, slice_list
from assay.tenancy.models import AuditorGrant, OrgKind, Role
from tests.api.support import AuthFor, assert_problem
from tests.factories import World, make_org

V1 = "/api/v1"
LISTS = [
    "/api/v1/orgs",
    "/api/v1/orgs/client-a/members",
    "/api/v1/orgs/client-a/auditor-grants",
    "/api/v1/tokens",
    "/api/v1/orgs/northwind/audit-events",
]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_has_the_envelope_with_defaults(
    client: TestClient, auth: AuthFor, path: str
) -> None:
    response = client.get(path, headers=auth("northwind", Role.ADMIN))
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == {"items", "total", "limit", "offset"}
    assert (page["limit"], page["offset"]) == (50, 0)
    assert page["total"] >= len(page["items"]) >= 1


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=ten",
        "limit=1.5",
        "offset=-1",
        "offset=x",
        "offset=99999999999999999999999",
    ],
)
def test_bad_paging_is_a_422_problem_naming_the_parameter(
    client: TestClient, auth: AuthFor, path: str, query: str
) -> None:
    response = client.get(f"{path}?{query}", headers=auth("northwind", Role.ADMIN))
    problem = assert_problem(response, 422)
    name = query.split("=")[0]
    assert [issue["location"] for issue in problem["errors"]] == [["query", name]]
    assert name in problem["detail"]


def test_limit_and_offset_slice_members(client: TestClient, auth: AuthFor) -> None:
    headers = auth("client-a", Role.ADMIN)
    everyone = client.get(f"{V1}/orgs/client-a/members", headers=headers).json()["items"]
    pages = [
        client.get(
            f"{V1}/orgs/client-a/members", headers=headers, params={"limit": 3, "offset": offset}
        ).json()
        for offset in (0, 3, 6)
    ]
    assert [len(p["items"]) for p in pages] == [3, 1, 0]
    assert all(p["total"] == 4 and p["limit"] == 3 for p in pages)
    assert [p["offset"] for p in pages] == [0, 3, 6]
    assert [m for p in pages for m in p["items"]] == everyone


def test_limit_200_is_accepted(client: TestClient, auth: AuthFor) -> None:
    response = client.get(f"{V1}/orgs?limit=200", headers=auth("northwind", Role.ADMIN))
    assert response.json()["limit"] == 200


def test_grants_list_is_paginated_by_the_shared_helper(
    client: TestClient, session: Session, world: World, auth: AuthFor
) -> None:
    for number in range(5):
        firm = make_org(session, f"firm-{number}", OrgKind.AUDITOR)
        session.add(AuditorGrant(organization_id=world.orgs["client-a"].id, auditor_org_id=firm.id))
    session.commit()
    headers = auth("client-a", Role.ADMIN)
    url = f"{V1}/orgs/client-a/auditor-grants"
    full = client.get(url, headers=headers).json()
    assert full["total"] == 6
    page = client.get(url, headers=headers, params={"limit": 2, "offset": 4}).json()
    assert page["total"] == 6
    assert page["items"] == full["items"][4:6]
    beyond = client.get(url, headers=headers, params={"offset": 10}).json()
    assert beyond == {"items": [], "total": 6, "limit": 50, "offset": 10}


def test_orgs_pagination_total_counts_visible_orgs_only(client: TestClient, auth: AuthFor) -> None:
    page = client.get(f"{V1}/orgs?limit=1&offset=1", headers=auth("northwind", Role.ADMIN)).json()
    assert page["total"] == 3
    assert len(page["items"]) == 1


def test_slice_list() -> None:
    rows = list(range(7))
    assert slice_list(rows, PageRequest(limit=3, offset=0)) == ([0, 1, 2], 7)
    assert slice_list(rows, PageRequest(limit=3, offset=6)) == ([6], 7)
    assert slice_list(rows, PageRequest(limit=3, offset=9)) == ([], 7)
    assert slice_list([], PageRequest(limit=50, offset=0)) == ([], 0)
