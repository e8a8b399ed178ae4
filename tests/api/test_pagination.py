"""Pagination on every list, derived from the route table and the OpenAPI document.

Every GET route under /api/v1 is classified by its 200 response schema:

- a top-level JSON array fails the suite: a list is answered as a page;
- a `Page_*` model is a paged list: it must take `limit` and `offset`, refuse a limit above the
  maximum, a limit below 1 and a negative or non-numeric offset with a 422 problem naming the
  parameter, and answer the envelope `{items, total, limit, offset}` whose slices add up;
- any other route that takes `limit`/`offset` pages one list embedded in its answer (the
  controls of an assessment, the risk means of a portfolio): the same rules apply to that list.

A new paged route needs values for its path parameters in PATH_VALUES (and, for a required
query parameter, in REQUIRED_QUERY) and data in the `listed` fixture, or this suite fails.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assay.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest, slice_list
from assay.app import create_app
from assay.assess import evidence
from assay.tenancy.models import AuditorGrant, OrgKind, Role
from tests.api.support import AuthFor, assert_problem, issue_token, route_table
from tests.factories import SYSTEM, World, make_assessment, make_asset, make_audit_runs, make_org

V1 = "/api/v1"
ENVELOPE = {"items", "total", "limit", "offset"}

APP = create_app()
SPEC: dict[str, Any] = APP.openapi()
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]


def _operation(path: str) -> dict[str, Any]:
    operation: dict[str, Any] = SPEC["paths"][path]["get"]
    return operation


def _ok_schema(path: str) -> dict[str, Any] | None:
    """The JSON schema of the route's 200 answer (None for files and other media types)."""
    content = _operation(path)["responses"].get("200", {}).get("content", {})
    schema: dict[str, Any] | None = content.get("application/json", {}).get("schema")
    return schema


def _ref_name(schema: dict[str, Any] | None) -> str | None:
    ref = (schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def _query_parameters(path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in _operation(path).get("parameters", []) if p["in"] == "query"}


def _is_envelope(name: str | None) -> bool:
    return name is not None and set(SCHEMAS[name].get("properties", {})) == ENVELOPE


GET_ROUTES = sorted(
    endpoint.path
    for endpoint in route_table(APP)
    if endpoint.method == "GET" and endpoint.path.startswith(V1 + "/")
)
ARRAY_ROUTES = [path for path in GET_ROUTES if (_ok_schema(path) or {}).get("type") == "array"]
PAGE_ROUTES = [
    path for path in GET_ROUTES if (_ref_name(_ok_schema(path)) or "").startswith("Page_")
]
PAGED_PARAMETER_ROUTES = [
    path for path in GET_ROUTES if {"limit", "offset"} <= set(_query_parameters(path))
]
EMBEDDED_ROUTES = [path for path in PAGED_PARAMETER_ROUTES if path not in PAGE_ROUTES]


def embedded_page_field(path: str) -> str:
    """The one property of the route's answer that is a page (what limit/offset slice)."""
    name = _ref_name(_ok_schema(path))
    assert name is not None, f"{path}: takes limit/offset but answers no object"
    fields: list[str] = [
        str(field)
        for field, schema in SCHEMAS[name].get("properties", {}).items()
        if _is_envelope(_ref_name(schema))
    ]
    assert len(fields) == 1, f"{path}: limit/offset must page exactly one list, found {fields}"
    return fields[0]


# --- the route table ---------------------------------------------------------------------------


def test_the_route_table_has_paged_lists() -> None:
    assert f"{V1}/orgs" in PAGE_ROUTES and f"{V1}/orgs/{{slug}}/fleet" in PAGE_ROUTES
    assert len(PAGE_ROUTES) >= 10
    assert f"{V1}/assessments/{{assessment_id}}" in EMBEDDED_ROUTES


def test_no_route_answers_a_bare_array() -> None:
    assert ARRAY_ROUTES == [], f"answer a Page (limit/offset) instead of an array: {ARRAY_ROUTES}"


def test_no_route_answers_an_array_in_any_other_form() -> None:
    """Not as the 200 of another media type, nor wrapped in anyOf/oneOf (e.g. `list | None`)."""
    for path in GET_ROUTES:
        content = _operation(path)["responses"].get("200", {}).get("content", {})
        for media, body in content.items():
            schema = body.get("schema", {})
            variants = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
            assert all(v.get("type") != "array" for v in variants), (path, media)


@pytest.mark.parametrize("path", PAGE_ROUTES)
def test_page_models_are_the_envelope(path: str) -> None:
    name = _ref_name(_ok_schema(path))
    assert _is_envelope(name), f"{path}: {name} is not {{items, total, limit, offset}}"
    assert name is not None
    assert set(SCHEMAS[name].get("required", [])) == ENVELOPE
    assert SCHEMAS[name]["properties"]["items"]["type"] == "array"


@pytest.mark.parametrize("path", sorted({*PAGE_ROUTES, *PAGED_PARAMETER_ROUTES}))
def test_paged_routes_document_their_bounds(path: str) -> None:
    query = _query_parameters(path)
    assert {"limit", "offset"} <= set(query), f"{path}: a Page without limit/offset"
    limit, offset = query["limit"]["schema"], query["offset"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, MAX_LIMIT, DEFAULT_LIMIT)
    assert (offset["minimum"], offset["default"]) == (0, 0)
    assert not query["limit"].get("required") and not query["offset"].get("required")


@pytest.mark.parametrize("path", EMBEDDED_ROUTES)
def test_embedded_pages_are_one_envelope(path: str) -> None:
    embedded_page_field(path)


# --- calling every paged route ----------------------------------------------------------------

# Path parameters of paged routes: named in the `listed` fixture. An unknown one fails.
PATH_VALUES = {"slug", "framework", "assessment_id", "answer_id"}
# Query parameters a paged route requires, with a value that finds something.
REQUIRED_QUERY: dict[str, dict[str, str]] = {f"{V1}/catalog/search": {"q": "inventory"}}
# Fields that change when a list is read (a token's last use): left out of comparisons.
VOLATILE = {"last_used_at"}


@dataclass(frozen=True)
class Listed:
    """client-a with at least two items in every paged list, and the values to reach them."""

    values: dict[str, str]

    def url(self, path: str) -> str:
        filled = path
        for name in _path_parameters(path):
            if name not in self.values:
                pytest.fail(f"{path}: add a value for {{{name}}} to the `listed` fixture")
            filled = filled.replace(f"{{{name}}}", self.values[name])
        return filled


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


CATALOG_LISTS = (f"{V1}/frameworks", f"{V1}/catalog/", f"{V1}/orgs/{{slug}}/assessments")
ASSESSMENT_PARAMETERS = {"framework", "assessment_id", "answer_id"}


def needs_catalogs(path: str) -> bool:
    return path.startswith(CATALOG_LISTS) or bool(
        set(_path_parameters(path)) & ASSESSMENT_PARAMETERS
    )


@pytest.fixture
def listed(session: Session, world: World, request: pytest.FixtureRequest) -> Listed:
    """client-a's lists, two items or more in each (the catalogs and an assessment only for
    the routes that need them: loading the catalogs is the slow part)."""
    from assay.risk.service import create_risk

    path: str = request.node.callspec.params["path"]
    values = {"slug": "client-a"}
    if needs_catalogs(path):
        request.getfixturevalue("catalogs")
        objects = make_assessment(session, world, "client-a")
        evidence.add_file(
            session,
            world.actor("client-a", Role.IT_OPERATOR),
            objects.answer_id,
            filename="second.txt",
            stream=io.BytesIO(b"second file"),
            dates=evidence.EvidenceDates(date(2026, 1, 6)),
        )
        values |= {
            "framework": "cis-controls-v8.1",
            "assessment_id": str(objects.assessment_id),
            "answer_id": str(objects.answer_id),
        }
    make_audit_runs(session, world, "client-a", "Web A", "web.client-a.test")
    make_audit_runs(session, world, "client-a", "Db A", "db.client-a.test")
    make_asset(session, world, "client-a", "Never audited", "idle.client-a.test")
    for number in range(3):
        fields = {"title": f"Risk {number}", "inherent_likelihood": 3, "inherent_impact": 4}
        create_risk(session, SYSTEM, "client-a", {**fields, "fair": {"lef": 1, "lm": 9}})
    lookout = make_org(session, "lookout-audit", OrgKind.AUDITOR)
    session.add(AuditorGrant(organization_id=world.orgs["client-a"].id, auditor_org_id=lookout.id))
    session.commit()
    issue_token(session, world, "northwind", Role.ADMIN, name="a second token")
    return Listed(values)


def _page(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The envelope of a paged route's answer (top level, or the one embedded page)."""
    page: dict[str, Any] = body if path in PAGE_ROUTES else body[embedded_page_field(path)]
    return page


def _stable(items: list[Any]) -> list[Any]:
    return [
        {k: v for k, v in item.items() if k not in VOLATILE} if isinstance(item, dict) else item
        for item in items
    ]


def test_path_values_cover_every_paged_route() -> None:
    for path in PAGED_PARAMETER_ROUTES:
        unknown = set(_path_parameters(path)) - PATH_VALUES
        assert not unknown, f"{path}: add {unknown} to PATH_VALUES and the `listed` fixture"
        required = {n for n, p in _query_parameters(path).items() if p.get("required")}
        assert required <= set(REQUIRED_QUERY.get(path, {})), f"{path}: {required}"


@pytest.mark.parametrize("path", PAGED_PARAMETER_ROUTES)
def test_every_paged_route_slices_its_list(
    client: TestClient, auth: AuthFor, listed: Listed, path: str
) -> None:
    headers = auth("northwind", Role.ADMIN)
    url, query = listed.url(path), REQUIRED_QUERY.get(path, {})

    def get(**paging: int) -> dict[str, Any]:
        response = client.get(url, headers=headers, params={**query, **paging})
        assert response.status_code == 200, (path, paging, response.text)
        return _page(path, response.json())

    first = get()
    assert set(first) == ENVELOPE, (path, set(first))
    assert (first["limit"], first["offset"]) == (DEFAULT_LIMIT, 0)
    assert first["total"] >= 2, f"{path}: give the `listed` fixture two items for this list"
    everything = get(limit=MAX_LIMIT)
    assert everything["limit"] == MAX_LIMIT
    assert everything["total"] == first["total"]
    whole = _stable(everything["items"])
    assert len(whole) == min(first["total"], MAX_LIMIT)
    singles = [get(limit=1, offset=offset) for offset in range(min(first["total"], 3))]
    assert all((p["limit"], p["total"]) == (1, first["total"]) for p in singles), path
    assert [item for p in singles for item in _stable(p["items"])] == whole[: len(singles)]
    beyond = get(offset=first["total"])
    assert beyond["items"] == [] and beyond["total"] == first["total"], path
    assert beyond["offset"] == first["total"]


BAD_PAGING = [
    "limit=0",
    f"limit={MAX_LIMIT + 1}",
    "limit=-1",
    "limit=ten",
    "limit=1.5",
    "offset=-1",
    "offset=x",
    "offset=99999999999999999999999",
]


@pytest.mark.parametrize("path", PAGED_PARAMETER_ROUTES)
def test_bad_paging_is_a_422_problem_naming_the_parameter(
    client: TestClient, auth: AuthFor, path: str
) -> None:
    """Checked before anything is looked up: the path values need not exist."""
    headers = auth("northwind", Role.ADMIN)
    values = {"slug": "client-a", "framework": "cis-controls-v8.1"}
    url = path
    for name in _path_parameters(path):
        url = url.replace(f"{{{name}}}", values.get(name, "1"))
    extra = "".join(f"&{k}={v}" for k, v in REQUIRED_QUERY.get(path, {}).items())
    for query in BAD_PAGING:
        response = client.get(f"{url}?{query}{extra}", headers=headers)
        problem = assert_problem(response, 422)
        name = query.split("=")[0]
        assert [issue["location"] for issue in problem["errors"]] == [["query", name]], (
            path,
            query,
        )
        assert name in problem["detail"]


# --- particular lists --------------------------------------------------------------------------


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


def test_fleet_pages_by_asset_name_with_each_latest_run(
    client: TestClient, session: Session, world: World, auth: AuthFor
) -> None:
    first, latest = make_audit_runs(session, world, "client-a", "Web A", "web.client-a.test")
    make_asset(session, world, "client-a", "App A", "app.client-a.test")
    make_asset(session, world, "client-a", "Zed A", "zed.client-a.test")
    make_asset(session, world, "client-b", "Other B", "other.client-b.test")
    session.commit()
    url, headers = f"{V1}/orgs/client-a/fleet", auth("client-a", Role.EXECUTIVE)
    page = client.get(url, headers=headers, params={"limit": 2, "offset": 1}).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
    assert [row["asset"] for row in page["items"]] == ["Web A", "Zed A"]
    assert page["items"][0]["latest"]["id"] == latest != first
    assert page["items"][1]["latest"] is None
    whole = client.get(url, headers=headers).json()
    assert [row["asset"] for row in whole["items"]] == ["App A", "Web A", "Zed A"]


def test_portfolio_pages_its_risk_means_and_sums_every_risk(
    client: TestClient, session: Session, world: World, auth: AuthFor
) -> None:
    from assay.risk.service import create_risk

    for slug, count in (("client-a", 3), ("client-b", 2)):
        for number in range(count):
            fields = {"title": f"{slug} {number}", "inherent_likelihood": 3, "inherent_impact": 4}
            create_risk(session, SYSTEM, slug, {**fields, "fair": {"lef": 1, "lm": 9}})
    session.commit()
    url, headers = f"{V1}/orgs/northwind/risk-portfolio", auth("northwind", Role.ADMIN)
    params = {"iterations": 1000}
    whole = client.get(url, headers=headers, params=params).json()
    page = client.get(url, headers=headers, params={**params, "limit": 2, "offset": 2}).json()
    assert whole["risks"] == page["risks"] == 5
    assert page["residual"] == whole["residual"]
    assert [c["organization"] for c in page["clients"]] == ["client-a", "client-b"]
    means = page["risk_means"]
    assert (means["total"], means["limit"], means["offset"]) == (5, 2, 2)
    assert means["items"] == whole["risk_means"]["items"][2:4]
    assert [m["title"] for m in whole["risk_means"]["items"]] == [
        "client-a 0",
        "client-a 1",
        "client-a 2",
        "client-b 0",
        "client-b 1",
    ]


def test_slice_list() -> None:
    rows = list(range(7))
    assert slice_list(rows, PageRequest(limit=3, offset=0)) == ([0, 1, 2], 7)
    assert slice_list(rows, PageRequest(limit=3, offset=6)) == ([6], 7)
    assert slice_list(rows, PageRequest(limit=3, offset=9)) == ([], 7)
    assert slice_list([], PageRequest(limit=50, offset=0)) == ([], 0)
