"""The catalog endpoints: frameworks, controls, search and crosswalk mapping (read-only, global).

Any authenticated caller reads them; without a token every one is a 401. Bad input is a 4xx
problem document, never a 500. (That callers of every organization and role see the same
catalog, and nothing of any organization, is checked in test_tenant_isolation.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from assay.tenancy.models import Role
from tests.api.support import PROBLEM_TYPE, AuthFor, assert_problem
from tests.factories import MINI_CATALOG_KEY, load_mini_catalog

V1 = "/api/v1"
CSF = "nist-csf-2.0"
CIS = "cis-controls-v8.1"
CSF_FUNCTIONS = ["GV", "ID", "PR", "DE", "RS", "RC"]


@pytest.fixture
def headers(auth: AuthFor, catalogs: None) -> dict[str, str]:
    """An executive of a client: the least privileged role is enough to read catalogs."""
    return auth("client-a", Role.EXECUTIVE)


@pytest.fixture
def mini(engine: Engine, catalogs: None) -> None:
    """The small SP 800-53-shaped catalog (labels such as AC-2(1)) and its crosswalk to CSF."""
    load_mini_catalog(engine)


def get_ok(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(V1 + path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def all_controls(
    client: TestClient, framework: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every item of a controls listing, page by page."""
    items: list[dict[str, Any]] = []
    while True:
        page = get_ok(
            client,
            f"/frameworks/{framework}/controls",
            headers,
            limit=200,
            offset=len(items),
            **params,
        )
        items.extend(page["items"])
        if len(items) >= page["total"] or not page["items"]:
            assert len(items) == page["total"]
            return items


# --- frameworks ----------------------------------------------------------------------------


def test_frameworks_are_listed_with_their_counts(
    client: TestClient, headers: dict[str, str]
) -> None:
    page = get_ok(client, "/frameworks", headers)
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    by_id = {item["id"]: item for item in page["items"]}
    assert [item["id"] for item in page["items"]] == [CIS, CSF]  # by key
    csf, cis = by_id[CSF], by_id[CIS]
    assert csf["name"] == "NIST Cybersecurity Framework" and csf["version"] == "2.0"
    assert csf["origin"] == "builtin"
    assert csf["levels"] == ["function", "category", "subcategory"]
    assert csf["counts"] == {"function": 6, "category": 22, "subcategory": 106}
    assert (csf["withdrawn"], csf["baselines"]) == (0, [])
    assert cis["levels"] == ["control", "safeguard"]
    assert cis["counts"] == {"control": 18, "safeguard": 153}
    assert cis["baselines"] == ["ig1", "ig2", "ig3"]
    assert cis["publisher"] == "Center for Internet Security"

    second = get_ok(client, "/frameworks", headers, limit=1, offset=1)
    assert (second["total"], [i["id"] for i in second["items"]]) == (2, [CSF])
    assert get_ok(client, "/frameworks", headers, offset=5)["items"] == []


def test_one_framework_has_its_header_counts_and_notice(
    client: TestClient, headers: dict[str, str]
) -> None:
    cis = get_ok(client, f"/frameworks/{CIS}", headers)
    assert cis["id"] == CIS
    assert cis["counts"] == {"control": 18, "safeguard": 153}
    assert cis["baselines"] == ["ig1", "ig2", "ig3"]
    assert "not CIS text" in cis["notice"]  # the licence note travels with the catalog
    assert cis["content_version"] and cis["source"] and cis["loaded_at"]
    csf = get_ok(client, f"/frameworks/{CSF}", headers)
    assert csf["counts"] == {"function": 6, "category": 22, "subcategory": 106}


def test_no_catalog_loaded_is_an_empty_list_and_a_404(client: TestClient, auth: AuthFor) -> None:
    headers = auth("client-a", Role.IT_OPERATOR)
    assert get_ok(client, "/frameworks", headers)["total"] == 0
    problem = assert_problem(client.get(f"{V1}/frameworks/{CSF}", headers=headers), 404)
    assert "loaded: none" in problem["detail"]


# --- controls ------------------------------------------------------------------------------


def test_controls_come_in_document_order_with_their_parent(
    client: TestClient, headers: dict[str, str]
) -> None:
    items = all_controls(client, CSF, headers)
    assert len(items) == 6 + 22 + 106
    assert [i["label"] for i in items[:3]] == ["GV", "GV.OC", "GV.OC-01"]
    assert [i["label"] for i in items if i["level"] == 1] == CSF_FUNCTIONS
    labels = [item["label"] for item in items]
    for item in items:
        assert item["framework"] == CSF
        if item["level"] == 1:
            assert item["parent"] is None
        else:  # a parent comes before its children
            assert labels.index(item["parent"]) < labels.index(item["label"])
            assert item["label"].startswith(item["parent"])
    assert {i["kind"] for i in items} == {"function", "category", "subcategory"}

    # pages of the same list
    page = get_ok(client, f"/frameworks/{CSF}/controls", headers, limit=50, offset=100)
    assert page["total"] == 134
    assert [i["label"] for i in page["items"]] == labels[100:134]


def test_level_filter_cuts_the_tree(client: TestClient, headers: dict[str, str]) -> None:
    functions = get_ok(client, f"/frameworks/{CSF}/controls", headers, level=1)
    assert functions["total"] == 6
    assert [i["label"] for i in functions["items"]] == CSF_FUNCTIONS
    assert all(i["parent"] is None for i in functions["items"])
    assert get_ok(client, f"/frameworks/{CSF}/controls", headers, level=2)["total"] == 28
    assert get_ok(client, f"/frameworks/{CIS}/controls", headers, level=1)["total"] == 18
    assert get_ok(client, f"/frameworks/{CSF}/controls", headers, level=9)["total"] == 134


@pytest.mark.parametrize(("group", "safeguards"), [(1, 56), (2, 130), (3, 153)])
def test_implementation_groups_select_safeguards_with_their_controls(
    client: TestClient, headers: dict[str, str], group: int, safeguards: int
) -> None:
    items = all_controls(client, CIS, headers, ig=group)
    selected = [i for i in items if i["kind"] == "safeguard"]
    assert len(selected) == safeguards
    assert all(group in i["properties"]["implementation-groups"] for i in selected)
    parents = {i["parent"] for i in selected}
    controls = [i for i in items if i["kind"] == "control"]
    assert {c["label"] for c in controls} == parents  # exactly the safeguards' controls
    assert len(items) == safeguards + len(parents)
    # ig=<n> is the baseline ig<n>
    assert all_controls(client, CIS, headers, baseline=f"ig{group}") == items


def test_ig1_holds_the_basic_safeguards(client: TestClient, headers: dict[str, str]) -> None:
    page = get_ok(client, f"/frameworks/{CIS}/controls", headers, ig=1, limit=3)
    assert page["total"] == 56 + 15  # IG1 safeguards come from 15 of the 18 controls
    first = page["items"]
    assert [(i["label"], i["parent"]) for i in first] == [("1", None), ("1.1", "1"), ("1.2", "1")]
    assert first[1]["properties"] == {
        "implementation-groups": [1, 2, 3],
        "asset-type": "Devices",
        "security-function": "Identify",
    }


def test_control_detail_shows_mappings_in_both_directions(
    client: TestClient, headers: dict[str, str]
) -> None:
    safeguard = get_ok(client, f"/frameworks/{CIS}/controls/1.1", headers)
    assert (safeguard["framework"], safeguard["label"], safeguard["kind"]) == (
        CIS,
        "1.1",
        "safeguard",
    )
    assert safeguard["parent"]["label"] == "1" and safeguard["parent"]["kind"] == "control"
    assert safeguard["children"] == []
    assert safeguard["baselines"] == ["ig1", "ig2", "ig3"]
    assert safeguard["properties"]["asset-type"] == "Devices"
    assert safeguard["official_title"] is None  # no licensee workbook loaded
    targets = {(m["framework"], m["label"]): m for m in safeguard["maps_to"]}
    assert (CSF, "ID.AM-01") in targets
    assert targets[(CSF, "ID.AM-01")]["relationship"] == "subset-of"
    assert targets[(CSF, "ID.AM-01")]["mapping_set"] == "cis-controls-v8.1--nist-csf-2.0"
    assert safeguard["mapped_from"] == []

    subcategory = get_ok(client, f"/frameworks/{CSF}/controls/ID.AM-01", headers)
    assert subcategory["parent"]["label"] == "ID.AM"
    sources = {(m["framework"], m["label"]) for m in subcategory["mapped_from"]}
    assert (CIS, "1.1") in sources
    assert subcategory["maps_to"] == []

    function = get_ok(client, f"/frameworks/{CSF}/controls/GV", headers)
    assert function["parent"] is None
    assert [c["label"] for c in function["children"]][:2] == ["GV.OC", "GV.RM"]
    assert all(c["kind"] == "category" for c in function["children"])


def test_labels_with_parentheses_work_url_encoded(
    client: TestClient, headers: dict[str, str], mini: None
) -> None:
    for path in ("AC-2%281%29", "AC-2(1)"):
        control = get_ok(client, f"/frameworks/{MINI_CATALOG_KEY}/controls/{path}", headers)
        assert control["label"] == "AC-2(1)"
        assert control["parent"]["label"] == "AC-2"
        assert [(m["label"], m["relationship"]) for m in control["maps_to"]] == [
            ("PR.AA-01", "subset-of")
        ]
    parent = get_ok(client, f"/frameworks/{MINI_CATALOG_KEY}/controls/AC-2", headers)
    assert [(c["label"], c["withdrawn"]) for c in parent["children"]] == [
        ("AC-2(1)", False),
        ("AC-2(10)", True),
    ]
    listed = get_ok(client, "/frameworks", headers)
    mini_summary = next(i for i in listed["items"] if i["id"] == MINI_CATALOG_KEY)
    assert mini_summary["withdrawn"] == 1 and mini_summary["baselines"] == ["low"]
    subcategory = get_ok(client, f"/frameworks/{CSF}/controls/PR.AA-01", headers)
    assert (MINI_CATALOG_KEY, "AC-2(1)") in {
        (m["framework"], m["label"]) for m in subcategory["mapped_from"]
    }


# --- search --------------------------------------------------------------------------------


def _contains(item: dict[str, Any], needle: str) -> bool:
    fields = (item["label"], item["title"], item["description"], item["official_title"] or "")
    return any(needle.lower() in field.lower() for field in fields)


def test_search_ignores_case_and_filters_by_framework(
    client: TestClient, headers: dict[str, str]
) -> None:
    lower = get_ok(client, "/catalog/search", headers, q="inventory", limit=200)
    upper = get_ok(client, "/catalog/search", headers, q="INVENTORY", limit=200)
    assert lower == {**upper}
    assert lower["total"] > 5
    assert {i["framework"] for i in lower["items"]} == {CIS, CSF}
    assert all(_contains(i, "inventory") for i in lower["items"])
    assert (CIS, "1.1") in {(i["framework"], i["label"]) for i in lower["items"]}

    only_csf = get_ok(client, "/catalog/search", headers, q="inventory", framework=CSF)
    assert 0 < only_csf["total"] < lower["total"]
    assert {i["framework"] for i in only_csf["items"]} == {CSF}

    by_id = get_ok(client, "/catalog/search", headers, q="gv.oc-0")
    assert {i["label"] for i in by_id["items"]} >= {"GV.OC-01", "GV.OC-05"}


def test_search_is_paginated(client: TestClient, headers: dict[str, str]) -> None:
    everything = get_ok(client, "/catalog/search", headers, q="e", limit=200)
    total = everything["total"]
    assert total > 200  # enough for several pages
    labels: list[tuple[str, str]] = []
    for offset in range(0, total, 75):
        page = get_ok(client, "/catalog/search", headers, q="e", limit=75, offset=offset)
        assert page["total"] == total and page["offset"] == offset
        labels.extend((i["framework"], i["label"]) for i in page["items"])
    assert len(labels) == len(set(labels)) == total
    assert labels[:200] == [(i["framework"], i["label"]) for i in everything["items"]]


@pytest.mark.parametrize("text", ["%", "_", "100%_", "'", '"', "' OR 1=1 --", "\\", "%'\"_\\"])
def test_search_takes_wildcards_and_quotes_literally(
    client: TestClient, headers: dict[str, str], text: str
) -> None:
    page = get_ok(client, "/catalog/search", headers, q=text, limit=200)
    assert page["total"] < 300  # never "everything" (a wildcard taken as one)
    assert all(_contains(item, text.strip()) for item in page["items"])


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "x" * 10_000}, 422),
        ({"q": "x" * 201}, 422),
        ({"q": ""}, 422),
        ({"q": "   "}, 422),
        ({}, 422),
        ({"q": "a\x00b"}, 422),
        ({"q": "line\nbreak"}, 422),
        ({"q": "inventory", "framework": "nope"}, 404),
        ({"q": "inventory", "framework": "x" * 500}, 422),
        ({"q": "inventory", "limit": 0}, 422),
        ({"q": "inventory", "offset": -1}, 422),
    ],
)
def test_bad_search_input_is_a_clear_problem(
    client: TestClient, headers: dict[str, str], params: dict[str, Any], status: int
) -> None:
    problem = assert_problem(
        client.get(f"{V1}/catalog/search", headers=headers, params=params), status
    )
    assert "x" * 300 not in problem["detail"]  # the input is never echoed at length


# --- mapping -------------------------------------------------------------------------------


def test_a_cis_safeguard_maps_directly_to_csf(client: TestClient, headers: dict[str, str]) -> None:
    result = get_ok(client, "/catalog/map", headers, control="1.1", **{"from": CIS, "to": CSF})
    assert (result["framework"], result["control"], result["to_framework"]) == (CIS, "1.1", CSF)
    assert result["hops"] == 1
    targets = {p["target"]: p for p in result["paths"]}
    assert set(targets) == {"ID.AM-01", "ID.AM-02"}
    path = targets["ID.AM-01"]
    assert path["relationship"] == "subset-of" and path["title"]
    assert path["steps"] == [
        {
            "from_framework": CIS,
            "from_label": "1.1",
            "to_framework": CSF,
            "to_label": "ID.AM-01",
            "to_title": path["title"],
            "relationship": "subset-of",
            "mapping_set": "cis-controls-v8.1--nist-csf-2.0",
        }
    ]
    back = get_ok(client, "/catalog/map", headers, control="ID.AM-01", **{"from": CSF, "to": CIS})
    assert back["hops"] == 1
    reverse = {p["target"]: p["relationship"] for p in back["paths"]}
    assert reverse["1.1"] == "superset-of"  # read in the direction travelled


def test_mapping_through_a_third_framework_names_each_step(
    client: TestClient, headers: dict[str, str], mini: None
) -> None:
    result = get_ok(
        client, "/catalog/map", headers, control="5.1", **{"from": CIS, "to": MINI_CATALOG_KEY}
    )
    assert result["hops"] == 2
    targets = {p["target"]: p for p in result["paths"]}
    assert set(targets) == {"AC-2", "AC-2(1)"}
    steps = targets["AC-2(1)"]["steps"]
    assert [(s["from_label"], s["to_label"]) for s in steps] == [
        ("5.1", "PR.AA-01"),
        ("PR.AA-01", "AC-2(1)"),
    ]
    assert [s["to_framework"] for s in steps] == [CSF, MINI_CATALOG_KEY]
    assert [s["relationship"] for s in steps] == ["subset-of", "superset-of"]
    assert targets["AC-2(1)"]["relationship"] == "related"  # what the chain implies
    nothing = get_ok(
        client, "/catalog/map", headers, control="GV", **{"from": CSF, "to": MINI_CATALOG_KEY}
    )
    assert (nothing["hops"], nothing["paths"]) == (0, [])


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"control": "1.1", "from": CIS, "to": CIS}, 422),
        ({"control": "99.99", "from": CIS, "to": CSF}, 404),
        ({"control": "1.1", "from": "nope", "to": CSF}, 404),
        ({"control": "1.1", "from": CIS, "to": "nope"}, 404),
        ({"control": "1.1", "from": CIS}, 422),
        ({"from": CIS, "to": CSF}, 422),
        ({"control": "1\x00", "from": CIS, "to": CSF}, 422),
        ({"control": "1" * 65, "from": CIS, "to": CSF}, 422),
    ],
)
def test_bad_map_requests_are_problems(
    client: TestClient, headers: dict[str, str], params: dict[str, str], status: int
) -> None:
    assert_problem(client.get(f"{V1}/catalog/map", headers=headers, params=params), status)


# --- errors and authentication -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/frameworks/nope", 404),
        ("/frameworks/nope/controls", 404),
        ("/frameworks/nope/controls/1.1", 404),
        (f"/frameworks/{CIS}/controls/99.99", 404),
        (f"/frameworks/{CIS}/controls/ID.AM-01", 404),  # a label of another framework
        (f"/frameworks/{CIS}/controls?baseline=ig9", 404),
        (f"/frameworks/{CSF}/controls?ig=1", 404),  # CSF has no implementation groups
        (f"/frameworks/{CIS}/controls?ig=1&baseline=ig1", 422),
        (f"/frameworks/{CIS}/controls?level=0", 422),
        (f"/frameworks/{CIS}/controls?level=x", 422),
        (f"/frameworks/{CIS}/controls?ig=0", 422),
        ("/frameworks/%00", 422),
        (f"/frameworks/{CIS}/controls/%00", 422),
        (f"/frameworks/{CIS}/controls/{'1' * 65}", 422),
        (f"/frameworks/{'x' * 64}", 422),
    ],
)
def test_unknown_or_malformed_catalog_paths_are_problems(
    client: TestClient, headers: dict[str, str], path: str, status: int
) -> None:
    problem = assert_problem(client.get(V1 + path, headers=headers), status)
    if status == 404 and "nope" in path:
        assert "framework 'nope' not found" in problem["detail"]


CATALOG_REQUESTS = [
    "/frameworks",
    f"/frameworks/{CSF}",
    f"/frameworks/{CSF}/controls",
    f"/frameworks/{CSF}/controls/GV.OC-01",
    "/catalog/search?q=inventory",
    f"/catalog/map?control=1.1&from={CIS}&to={CSF}",
]


@pytest.mark.parametrize("path", CATALOG_REQUESTS)
def test_every_catalog_route_needs_a_valid_token(
    client: TestClient, headers: dict[str, str], path: str
) -> None:
    assert client.get(V1 + path, headers=headers).status_code == 200
    missing = assert_problem(client.get(V1 + path), 401)
    assert missing["type"] == "urn:assay:problem:authentication-failed"
    forged = client.get(V1 + path, headers={"Authorization": "Bearer assay_not-a-real-token"})
    assert_problem(forged, 401)
    assert forged.headers["www-authenticate"].startswith("Bearer")


def test_catalog_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    expected = {
        "/api/v1/frameworks": "list_frameworks",
        "/api/v1/frameworks/{framework}": "get_framework",
        "/api/v1/frameworks/{framework}/controls": "list_controls",
        "/api/v1/frameworks/{framework}/controls/{label}": "get_control",
        "/api/v1/catalog/search": "search_controls",
        "/api/v1/catalog/map": "map_control",
    }
    for path, operation_id in expected.items():
        operation = paths[path]["get"]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == ["catalogs"]
        assert "401" in operation["responses"]
        assert operation["responses"]["401"]["content"].keys() == {PROBLEM_TYPE}
