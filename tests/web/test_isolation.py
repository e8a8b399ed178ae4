"""A member of client-a, whatever their role, gets 404 and never data for client-b's objects.

The routes come from the app's route table: every page route with a path parameter is tried,
and a parameter this test does not know fails it loudly, so future routes are covered.

The control catalog pages are the exception, declared in CATALOG_PAGES: catalogs belong to no
organization, so every signed-in user reads the same pages, which show no organization's data
(only the visitor's own header), change nothing and send a signed-out visitor to sign in.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.accounts.service import create_token
from assay.app import create_app
from assay.tenancy.models import AuditorGrant, Role
from tests.factories import SYSTEM, World
from tests.web.support import fill, path_params, sign_in, snapshot, web_routes

ALL_ROUTES = web_routes(create_app())
# Global, read-only catalog pages; being listed here exempts a page from the 404 check below.
CATALOG_PAGES = {
    ("GET", "/catalogs"),
    ("GET", "/catalogs/search"),
    ("GET", "/catalogs/{framework}"),
    ("GET", "/catalogs/{framework}/controls/{label}"),
}
CATALOG_PARAMETERS = {"framework", "label"}  # name global catalog data, never an organization's
ROUTES = [
    (method, path)
    for method, path in ALL_ROUTES
    if path_params(path) and (method, path) not in CATALOG_PAGES
]
ROLES = list(Role)

# Enough for any of our forms to do something if the request were allowed.
FORM = {
    "email": "admin@client-a.test",
    "role": "auditor",
    "slug": "client-c",
    "name": "Client C",
    "auditor": "sentinel",
    "expires_in_days": "30",
}


def client_b_objects(session: Session, world: World) -> dict[str, object]:
    """One object of every kind that belongs to client-b."""
    grant = AuditorGrant(
        organization_id=world.orgs["client-b"].id, auditor_org_id=world.orgs["watchtower"].id
    )
    session.add(grant)
    session.flush()
    token = create_token(
        session, SYSTEM, user_email="admin@client-b.test", org_slug="client-b", name="b"
    )
    values: dict[str, object] = {
        "slug": "client-b",
        "grant_id": grant.id,
        "membership_id": world.memberships[("client-b", Role.ADMIN)].id,
        "token_id": token.token.id,
        # global catalog entries: the same for everyone (client-b owns no part of them)
        "framework": "cis-controls-v8.1",
        "label": "1.1",
    }
    session.commit()
    return values


def assert_no_client_b_data(html: str) -> None:
    assert "@client-b.test" not in html
    assert "Client B" not in html
    assert "watchtower" not in html.lower()


def test_the_route_table_has_routes_with_parameters() -> None:
    assert ("GET", "/orgs/{slug}") in ROUTES
    assert len(ROUTES) >= 8


def test_catalog_pages_are_declared_exactly_and_take_only_catalog_parameters() -> None:
    assert set(CATALOG_PAGES) <= set(ALL_ROUTES), set(CATALOG_PAGES) - set(ALL_ROUTES)
    for method, path in CATALOG_PAGES:
        assert method == "GET", f"{method} {path}: catalog pages are read-only"
        assert set(path_params(path)) <= CATALOG_PARAMETERS, f"{path}: organization parameter"


CATALOG_URLS = [
    "/catalogs",
    "/catalogs/search?q=inventory",
    "/catalogs/{framework}",
    "/catalogs/{framework}?baseline=ig1",
    "/catalogs/{framework}/controls/{label}",
    "/catalogs/{framework}/controls/{label}?to=nist-csf-2.0",
]


def test_catalog_urls_cover_every_catalog_page() -> None:
    covered = {("GET", url.split("?")[0]) for url in CATALOG_URLS}
    assert covered == CATALOG_PAGES


REACHING_CLIENT_B = {"northwind", "watchtower"}


@pytest.mark.parametrize("slug", ["client-a", "sentinel", "watchtower", "northwind"])
def test_catalog_pages_are_global_and_show_no_other_organization(
    slug: str,
    client: TestClient,
    world: World,
    session: Session,
    engine: Engine,
    catalogs: None,
) -> None:
    values = client_b_objects(session, world)
    urls = [fill(url, values) for url in CATALOG_URLS]
    for url in urls:  # signed out: sign in first, and come back here afterwards
        response = client.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=%2Fcatalogs")
    pages: dict[str, str] = {}
    for role in ROLES:
        sign_in(client, world.user(slug, role).email)
        before = snapshot(engine)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url, response.text)
            main = response.text.split("<main", 1)[1]  # below the visitor's own header
            # northwind manages client-b and watchtower was granted it: their switchers
            # rightly list it, but no catalog page says anything of it
            assert_no_client_b_data(main if slug in REACHING_CLIENT_B else response.text)
            assert "client-b" not in main.lower() and slug not in main.lower(), url
            assert pages.setdefault(url, main) == main, f"{url} differs for {role.value}"
        assert snapshot(engine) == before
        client.cookies.clear()


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_client_a_members_get_404_for_client_b(
    method: str,
    path: str,
    role: Role,
    app: FastAPI,
    client: TestClient,
    world: World,
    session: Session,
    engine: Engine,
) -> None:
    values = client_b_objects(session, world)
    token = sign_in(client, world.user("client-a", role).email)
    url = fill(path, values)
    before = snapshot(engine)
    if method == "GET":
        response = client.get(url)
        assert response.status_code == 404, response.text
        assert_no_client_b_data(response.text)
        return
    assert method == "POST", f"no isolation check written for {method} {path}"
    # the organization named in a form field: client-b itself, then the member's own
    for org in ("client-b", "client-a"):
        response = client.post(url, data={**FORM, "org": org, "csrf_token": token})
        assert response.status_code == 404, (org, response.text)
        assert_no_client_b_data(response.text)
        assert snapshot(engine) == before


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_own_org_with_client_b_ids_reveals_nothing(
    role: Role, client: TestClient, world: World, session: Session, engine: Engine
) -> None:
    """Naming one's own organization with another tenant's object ids changes nothing."""
    values = {**client_b_objects(session, world), "slug": "client-a"}
    token = sign_in(client, world.user("client-a", role).email)
    before = snapshot(engine)
    for method, path in ROUTES:
        if method != "POST" or path_params(path) == ["slug"]:
            continue
        response = client.post(
            fill(path, values), data={**FORM, "org": "client-a", "csrf_token": token}
        )
        assert response.status_code in (403, 404), (path, response.text)
        assert_no_client_b_data(response.text)
        assert snapshot(engine) == before
