"""The catalog pages: frameworks with counts, a framework's tree and its filters, a control's
page with its mappings both ways and the map-to form, and search.

(That they are the same for every signed-in user and show no organization's data is checked in
test_isolation.py with the other route-table tests.)
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from assay.catalog.models import Control
from assay.db.engine import unit_of_work
from tests.factories import MINI_CATALOG_KEY, World, load_mini_catalog
from tests.web.support import sign_in

CSF = "nist-csf-2.0"
CIS = "cis-controls-v8.1"
CSF_FUNCTIONS = ["GV", "ID", "PR", "DE", "RS", "RC"]


@pytest.fixture
def visitor(client: TestClient, world: World, catalogs: None) -> TestClient:
    """A client signed in as an IT operator of a client organization."""
    sign_in(client, "it-operator@client-a.test")
    return client


def page(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def main_of(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def tree_labels(html: str) -> list[str]:
    """Labels of the controls shown in a framework's tree, in order."""
    tree = html.split('<ul class="tree">', 1)[1]
    return re.findall(r'<a class="cid" href="[^"]+">([^<]+)</a>', tree)


def links(html: str) -> set[str]:
    return {unescape(href) for href in re.findall(r'href="([^"]+)"', html)}


def test_catalogs_page_lists_frameworks_with_counts(visitor: TestClient) -> None:
    html = page(visitor, "/catalogs")
    assert '<a href="/catalogs" aria-current="page">Catalogs</a>' in html  # header link, current
    assert {"/catalogs/nist-csf-2.0", "/catalogs/cis-controls-v8.1"} <= links(html)
    text = re.sub(r"<[^>]+>", "", main_of(html))
    text = " ".join(text.split())
    for count in (
        "6 functions",
        "22 categories",
        "106 subcategories",
        "18 controls",
        "153 safeguards",
    ):
        assert count in text
    assert {f"/catalogs/cis-controls-v8.1?baseline=ig{n}" for n in (1, 2, 3)} <= links(html)
    assert "IG1" in text and "IG3" in text
    assert 'action="/catalogs/search"' in html  # the search box


def test_every_signed_in_page_links_to_catalogs(client: TestClient, world: World) -> None:
    sign_in(client, "executive@client-a.test")
    html = page(client, "/orgs/client-a")
    assert '<a href="/catalogs">Catalogs</a>' in html


def test_no_catalog_loaded_says_how_to_load_one(client: TestClient, world: World) -> None:
    sign_in(client, "executive@client-a.test")
    assert "No catalog is loaded yet" in page(client, "/catalogs")
    assert "not found" in page(client, "/catalogs/nist-csf-2.0", 404)


def test_framework_tree_is_nested_and_collapsed(visitor: TestClient) -> None:
    html = page(visitor, "/catalogs/nist-csf-2.0")
    labels = tree_labels(html)
    assert len(labels) == 6 + 22 + 106
    assert labels[:3] == ["GV", "GV.OC", "GV.OC-01"]
    tree = html.split('<ul class="tree">', 1)[1]
    assert tree.count("<details>") == 6 + 22  # every function and category folds, closed
    assert "<details open>" not in tree
    assert tree.count('<div class="leaf">') == 106
    assert "<script" not in html and "style=" not in html  # strict CSP: no inline code
    assert 'href="/catalogs/nist-csf-2.0/controls/GV.OC-01"' in html
    for figure in ("6", "22", "106"):
        assert f'<p class="figure">{figure}</p>' in html
    # expand everything, without JavaScript
    expanded = page(visitor, "/catalogs/nist-csf-2.0?expand=1")
    assert expanded.count("<details open>") == 28


def test_level_filter_shows_the_top_of_the_tree(visitor: TestClient) -> None:
    html = page(visitor, "/catalogs/nist-csf-2.0?level=1")
    assert tree_labels(html) == CSF_FUNCTIONS
    assert '<option value="1" selected>' in html
    two = page(visitor, "/catalogs/nist-csf-2.0?level=2&baseline=")
    assert len(tree_labels(two)) == 28
    assert two.count("<details open>") == 6  # a filtered tree opens
    assert len(tree_labels(page(visitor, "/catalogs/nist-csf-2.0?level="))) == 134


def test_implementation_group_filter(visitor: TestClient) -> None:
    html = page(visitor, "/catalogs/cis-controls-v8.1?baseline=ig1")
    labels = tree_labels(html)
    safeguards = [label for label in labels if "." in label]
    assert len(safeguards) == 56
    assert len(labels) == 56 + 15  # with the controls they belong to
    assert labels[:3] == ["1", "1.1", "1.2"]
    assert '<option value="ig1" selected>' in html
    assert '<label for="filter-baseline">Implementation group</label>' in html
    assert "showing 71:" in html
    ig2 = tree_labels(page(visitor, "/catalogs/cis-controls-v8.1?baseline=ig2"))
    assert len([label for label in ig2 if "." in label]) == 130
    # no baseline filter where the framework has none
    assert 'id="filter-baseline"' not in page(visitor, "/catalogs/nist-csf-2.0")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/catalogs/nope", 404),
        ("/catalogs/cis-controls-v8.1?baseline=ig9", 404),
        ("/catalogs/cis-controls-v8.1?level=x", 422),
        ("/catalogs/cis-controls-v8.1?level=0", 422),
        ("/catalogs/cis-controls-v8.1/controls/99.99", 404),
        ("/catalogs/nope/controls/1.1", 404),
        ("/catalogs/cis-controls-v8.1/controls/%00", 422),
        ("/catalogs/%00", 422),
        (f"/catalogs/cis-controls-v8.1/controls/{'1' * 65}", 422),
    ],
)
def test_unknown_or_malformed_addresses_are_error_pages(
    visitor: TestClient, url: str, status: int
) -> None:
    html = page(visitor, url, status)
    assert '<p class="status-code">' in html
    assert "Catalogs</a>" in html  # still the signed-in header


def test_control_page_shows_place_properties_and_mappings(visitor: TestClient) -> None:
    html = page(visitor, "/catalogs/cis-controls-v8.1/controls/1.1")
    main = main_of(html)
    crumbs = main.split('<nav class="breadcrumb"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/catalogs/cis-controls-v8.1/controls/1"' in crumbs  # up to the parent
    assert 'href="/catalogs/cis-controls-v8.1"' in crumbs
    assert '<span class="cid cid-large">1.1</span> Asset inventory' in main
    facts = main.split('class="panel facts"', 1)[1].split("</aside>", 1)[0]
    for expected in ("Implementation groups", "IG1", "IG2", "IG3", "Asset type", "Devices"):
        assert expected in facts
    assert "Security function" in facts and "Identify" in facts
    maps_to = main.split('id="maps-to"', 1)[1].split("</section>", 1)[0]
    assert 'href="/catalogs/nist-csf-2.0/controls/ID.AM-01"' in maps_to
    assert '<span class="rel rel-subset-of">subset of</span>' in maps_to
    mapped_from = main.split('id="mapped-from"', 1)[1].split("</section>", 1)[0]
    assert "No crosswalk maps another framework" in mapped_from
    assert "Official text" not in main

    # the mapping read from the other side
    target = main_of(page(visitor, "/catalogs/nist-csf-2.0/controls/ID.AM-01"))
    mapped_from = target.split('id="mapped-from"', 1)[1].split("</section>", 1)[0]
    assert 'href="/catalogs/cis-controls-v8.1/controls/1.1"' in mapped_from
    assert "CIS Critical Security Controls" in mapped_from
    assert 'href="/catalogs/nist-csf-2.0/controls/ID.AM"' in target  # its category


def test_control_page_lists_children(visitor: TestClient) -> None:
    main = main_of(page(visitor, "/catalogs/nist-csf-2.0/controls/GV"))
    assert "Categories" in main
    assert 'href="/catalogs/nist-csf-2.0/controls/GV.OC"' in main
    control = main_of(page(visitor, "/catalogs/cis-controls-v8.1/controls/1"))
    assert "Safeguards" in control
    assert [f"/catalogs/cis-controls-v8.1/controls/1.{n}" for n in range(1, 6)] == [
        link for link in re.findall(r'href="([^"]+)"', control) if "/controls/1." in link
    ][:5]


def test_official_text_is_shown_when_a_licensee_loaded_it(
    visitor: TestClient, engine: Engine
) -> None:
    with unit_of_work(engine) as db:
        db.execute(
            update(Control)
            .where(Control.label == "1.1", Control.kind == "safeguard")
            .values(
                official_title="Official Title From The Workbook",
                official_description="The official description text.",
            )
        )
    main = main_of(page(visitor, "/catalogs/cis-controls-v8.1/controls/1.1"))
    official = main.split('<div class="official">', 1)[1].split("</div>", 1)[0]
    assert "Official Title From The Workbook" in official
    assert "The official description text." in official
    assert "Center for Internet Security" in official


def test_map_to_form_shows_the_path_taken(visitor: TestClient, engine: Engine) -> None:
    html = page(visitor, "/catalogs/cis-controls-v8.1/controls/1.1")
    form = html.split('id="map-heading"', 1)[1].split("</form>", 1)[0]
    assert 'method="get"' in form and 'name="to"' in form
    assert '<option value="nist-csf-2.0" selected>' in form

    mapped = main_of(page(visitor, "/catalogs/cis-controls-v8.1/controls/1.1?to=nist-csf-2.0"))
    result = mapped.split('<div class="map-result"', 1)[1]
    assert "mapped directly (1 hop)" in result
    assert re.findall(r'<a class="cid" href="([^"]+)">', result) == [
        "/catalogs/nist-csf-2.0/controls/ID.AM-01",
        "/catalogs/nist-csf-2.0/controls/ID.AM-02",
    ]
    assert "cis-controls-v8.1--nist-csf-2.0" in result  # the crosswalk each step used

    load_mini_catalog(engine)
    two = main_of(page(visitor, f"/catalogs/cis-controls-v8.1/controls/5.1?to={MINI_CATALOG_KEY}"))
    result = two.split('<div class="map-result"', 1)[1]
    assert "reached through another framework (2 hops)" in result
    steps = result.split('class="path-steps"', 1)[1].split("</div>", 1)[0]
    assert 'href="/catalogs/nist-csf-2.0/controls/PR.AA-01"' in steps  # the hop in between
    assert "/controls/AC-2%281%29" in result
    assert ">related</span>" in result  # subset of, then superset of: only related

    none = main_of(page(visitor, f"/catalogs/nist-csf-2.0/controls/GV?to={MINI_CATALOG_KEY}"))
    assert "directly or through another framework" in none
    bad = main_of(page(visitor, "/catalogs/nist-csf-2.0/controls/GV?to=nope", 404))
    assert 'role="alert"' in bad and "not found" in bad


def test_labels_with_parentheses_have_their_own_page(visitor: TestClient, engine: Engine) -> None:
    load_mini_catalog(engine)
    parent = main_of(page(visitor, f"/catalogs/{MINI_CATALOG_KEY}/controls/AC-2"))
    assert f'href="/catalogs/{MINI_CATALOG_KEY}/controls/AC-2%281%29"' in parent
    assert '<tr class="is-withdrawn">' in parent  # AC-2(10)
    for path in ("AC-2%281%29", "AC-2(1)"):
        html = main_of(page(visitor, f"/catalogs/{MINI_CATALOG_KEY}/controls/{path}"))
        assert '<span class="cid cid-large">AC-2(1)</span>' in html
        assert f'href="/catalogs/{MINI_CATALOG_KEY}/controls/AC-2"' in html
        assert 'href="/catalogs/nist-csf-2.0/controls/PR.AA-01"' in html
    tree = page(visitor, f"/catalogs/{MINI_CATALOG_KEY}")
    assert tree_labels(tree) == ["AC", "AC-2", "AC-2(1)", "AC-2(10)"]
    assert '<label for="filter-baseline">Baseline</label>' in tree
    assert "badge-withdrawn" in tree


def test_search_finds_controls_in_any_case(visitor: TestClient) -> None:
    html = page(visitor, "/catalogs/search?q=INVENTORY")
    main = main_of(html)
    assert 'value="INVENTORY"' in main  # the box keeps the text
    found = re.findall(r'<a class="cid" href="([^"]+)">', main)
    assert "/catalogs/cis-controls-v8.1/controls/1.1" in found
    assert any(link.startswith("/catalogs/nist-csf-2.0/") for link in found)
    lower = main_of(page(visitor, "/catalogs/search?q=inventory"))
    assert re.findall(r'<a class="cid" href="([^"]+)">', lower) == found
    only_csf = main_of(page(visitor, "/catalogs/search?q=inventory&framework=nist-csf-2.0"))
    in_csf = re.findall(r'<a class="cid" href="([^"]+)">', only_csf)
    assert in_csf and all(link.startswith("/catalogs/nist-csf-2.0/") for link in in_csf)
    assert '<option value="nist-csf-2.0" selected>' in only_csf


def test_search_is_paginated_and_keeps_the_query(visitor: TestClient) -> None:
    first = main_of(page(visitor, "/catalogs/search?q=e"))
    total = int(re.search(r"(\d+) controls matching", first).group(1))  # type: ignore[union-attr]
    assert total > 100
    assert len(re.findall(r'<a class="cid"', first)) == 50
    assert 'href="/catalogs/search?q=e&amp;framework=&amp;page=2" rel="next"' in first
    second = main_of(page(visitor, "/catalogs/search?q=e&framework=&page=2"))
    assert "Page 2 of" in second
    assert 'href="/catalogs/search?q=e&amp;framework=&amp;page=1" rel="prev"' in second
    assert set(re.findall(r'<a class="cid" href="([^"]+)">', first)).isdisjoint(
        re.findall(r'<a class="cid" href="([^"]+)">', second)
    )


@pytest.mark.parametrize("text", ["%", "_", "'", '"', "' OR 1=1 --", "\\", "<b>x</b>"])
def test_search_takes_hostile_text_literally(visitor: TestClient, text: str) -> None:
    main = main_of(page(visitor, "/catalogs/search?" + urlencode({"q": text})))
    assert "<b>x</b>" not in main  # escaped when shown again
    assert 'role="alert"' not in main


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("q=" + "x" * 10_000, 422, "at most 200 characters"),
        ("q=" + "x" * 201, 422, "at most 200 characters"),
        ("q=inventory&framework=nope", 404, "framework &#39;nope&#39; not found"),
        ("q=a%00b", 422, "query parameter &#39;q&#39;"),
    ],
)
def test_bad_search_input_is_explained(
    visitor: TestClient, query: str, status: int, message: str
) -> None:
    html = page(visitor, "/catalogs/search?" + query, status)
    assert message in html
    assert "x" * 201 not in html  # a long text is not shown back in full


def test_empty_search_only_shows_the_box(visitor: TestClient) -> None:
    for url in ("/catalogs/search", "/catalogs/search?q=", "/catalogs/search?q=+++"):
        main = main_of(page(visitor, url))
        assert 'id="catalog-q"' in main
        assert "Results" not in main and 'role="alert"' not in main


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, catalogs: None) -> None:
    for url in (
        "/catalogs",
        "/catalogs/nist-csf-2.0",
        "/catalogs/nist-csf-2.0/controls/GV.OC-01",
        "/catalogs/search?q=inventory",
    ):
        response = client.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=%2Fcatalogs")
