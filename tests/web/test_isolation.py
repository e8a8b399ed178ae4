"""A member of client-a, whatever their role, gets 404 and never data for client-b's objects;
so do the members of the auditor firms (watchtower, granted nothing; sentinel, granted client-a
only).

The routes come from the app's route table: every page route with a path parameter is tried,
and a parameter this test does not know fails it loudly, so future routes are covered. Forms
that upload a file are also sent as multipart, and no evidence file is ever stored.

The control catalog pages are the exception, declared in CATALOG_PAGES: catalogs belong to no
organization, so every signed-in user reads the same pages, which show no organization's data
(only the visitor's own header), change nothing and send a signed-out visitor to sign in.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.accounts.service import create_token
from assay.app import create_app
from assay.assets.service import create_asset
from assay.assets.validation import AssetInput
from assay.config import settings
from assay.db.base import utcnow
from assay.tenancy.models import AuditorGrant, Role
from tests.factories import SYSTEM, World, make_assessment, make_audit_runs
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
    "framework": "cis-controls-v8.1",
    "target_ig": "1",
    "control": "1.1",
    "status": "fully",
    "maturity": "3",
    "collected_on": "2026-01-05",
    "comment": "Checked by an outsider.",
    "state": "in_progress",
    "kind": "host",
    "identifiers": "hostname:outsider.test",
    "title": "An outsider's risk",
    "inherent_likelihood": "3",
    "inherent_impact": "3",
    "lef": "1",
    "lm": "1000",
    "reason": "An outsider accepts it",
    "expires_on": (date.today() + timedelta(days=30)).isoformat(),
}


# Forms that upload a file: sent as multipart too (a url-encoded body is refused as such).
UPLOADS = {
    "/assessments/{assessment_id}/answers/{answer_id}/evidence",
    "/assessments/{assessment_id}/import",
    "/orgs/{slug}/assets/import",
}
UPLOAD_FILE = {"file": ("outsider.csv", b"control,status\n1.1,fully\n", "text/csv")}
# Parameters naming assessment data (client-b's assessment, its answer and evidence file).
ASSESSMENT_PARAMETERS = {"assessment_id", "answer_id", "evidence_id", "chart", "run_id"}
B_ASSESSMENT = "Client B CIS review"


def needs_assessment(paths: list[str]) -> bool:
    return any(set(path_params(path)) & ASSESSMENT_PARAMETERS for path in paths)


def stored_files() -> list[str]:
    root = settings().data_dir / "evidence"
    return sorted(str(p) for p in root.rglob("*")) if root.exists() else []


def client_b_objects(
    session: Session, world: World, request: pytest.FixtureRequest | None = None
) -> dict[str, object]:
    """One object of every kind that belongs to client-b (with `request`, also a CIS
    assessment with an answer and an evidence file, which needs the catalogs loaded)."""
    grant = AuditorGrant(
        organization_id=world.orgs["client-b"].id, auditor_org_id=world.orgs["watchtower"].id
    )
    session.add(grant)
    session.flush()
    token = create_token(
        session, SYSTEM, user_email="admin@client-b.test", org_slug="client-b", name="b"
    )
    asset = create_asset(
        session,
        SYSTEM,
        "client-b",
        AssetInput(
            "Client B database", "data_store", identifiers=[("hostname", "db.client-b.test")]
        ),
    )
    values: dict[str, object] = {
        "slug": "client-b",
        "grant_id": grant.id,
        "membership_id": world.memberships[("client-b", Role.ADMIN)].id,
        "token_id": token.token.id,
        "asset_id": asset.id,
        "risk_id": _b_risk(session),
        # global catalog entries: the same for everyone (client-b owns no part of them)
        "framework": "cis-controls-v8.1",
        "label": "1.1",
    }
    session.commit()
    if request is not None:
        request.getfixturevalue("catalogs")
        objects = make_assessment(
            session, world, "client-b", name=B_ASSESSMENT, filename="client-b-evidence.txt"
        )
        first_run, _ = make_audit_runs(
            session, world, "client-b", "Client B host", "host.client-b.test"
        )
        values.update(
            assessment_id=objects.assessment_id,
            answer_id=objects.answer_id,
            evidence_id=objects.evidence_id,
            chart="heatmap",
            run_id=first_run,
        )
    return values


def _b_risk(session: Session) -> int:
    """A risk of client-b's register, with FAIR estimates (so its charts exist)."""
    from assay.risk.service import create_risk

    fields = {"title": "Client B risk", "inherent_likelihood": 3, "inherent_impact": 4}
    return create_risk(session, SYSTEM, "client-b", {**fields, "fair": {"lef": 1, "lm": 9}}).id


def assert_no_client_b_data(html: str) -> None:
    assert "@client-b.test" not in html
    assert "Client B" not in html
    assert "client-b-evidence" not in html
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


def attempt(
    client: TestClient, method: str, path: str, url: str, token: str, org: str
) -> httpx.Response:
    """One request to a route, as its page would send it (multipart for uploads)."""
    if method == "GET":
        return client.get(url)
    assert method == "POST", f"no isolation check written for {method} {path}"
    data = {**FORM, "org": org, "csrf_token": token}
    if path in UPLOADS:
        return client.post(url, data=data, files=UPLOAD_FILE)
    return client.post(url, data=data)


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
    request: pytest.FixtureRequest,
) -> None:
    values = client_b_objects(session, world, request if needs_assessment([path]) else None)
    token = sign_in(client, world.user("client-a", role).email)
    url = fill(path, values)
    before, files = snapshot(engine), stored_files()
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
        if path in UPLOADS:
            uploaded = client.post(
                url, data={**FORM, "org": org, "csrf_token": token}, files=UPLOAD_FILE
            )
            assert uploaded.status_code == 404, (org, uploaded.text)
            assert_no_client_b_data(uploaded.text)
            assert (snapshot(engine), stored_files()) == (before, files)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
@pytest.mark.parametrize("slug", ["watchtower", "sentinel"])
def test_auditor_firm_members_get_404_for_client_b(
    slug: str,
    role: Role,
    client: TestClient,
    world: World,
    session: Session,
    engine: Engine,
    request: pytest.FixtureRequest,
) -> None:
    """Every route with client-b's objects, for every role of both auditor firms: sentinel
    reaches client-a only, watchtower (its grant on client-b revoked) no client at all."""
    values = client_b_objects(session, world, request)
    grant = session.get(AuditorGrant, values["grant_id"])
    assert grant is not None
    grant.revoked_at = utcnow()  # the fixture's grant to watchtower: revoked, out of reach
    session.commit()
    token = sign_in(client, world.user(slug, role).email)
    before, files = snapshot(engine), stored_files()
    failures = []
    for method, path in ROUTES:
        url = fill(path, values)
        response = attempt(client, method, path, url, token, "client-b")
        status, text = response.status_code, response.text
        if status != 404:
            failures.append(f"{method} {url}: {status}")
        elif "@client-b.test" in text or "Client B" in text or "client-b-evidence" in text:
            failures.append(f"{method} {url}: reveals client-b data")
    assert not failures, "\n".join(failures)
    assert (snapshot(engine), stored_files()) == (before, files)


# Parameters that name client-b's objects even under one's own organization or assessment.
FOREIGN_OBJECTS = {"grant_id", "membership_id", "token_id", "answer_id", "evidence_id", "asset_id"}
FOREIGN_OBJECTS |= {"risk_id"}


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_own_org_with_client_b_ids_reveals_nothing(
    role: Role,
    client: TestClient,
    world: World,
    session: Session,
    engine: Engine,
    request: pytest.FixtureRequest,
) -> None:
    """Naming one's own organization, or one's own assessment, with another tenant's object
    ids changes nothing."""
    values = {**client_b_objects(session, world, request), "slug": "client-a"}
    values["assessment_id"] = make_assessment(session, world, "client-a").assessment_id
    token = sign_in(client, world.user("client-a", role).email)
    before, files = snapshot(engine), stored_files()
    for method, path in ROUTES:
        params = path_params(path)
        if method != "POST" or params == ["slug"]:
            continue
        if "assessment_id" in params and not set(params) & FOREIGN_OBJECTS:
            continue  # only one's own assessment: nothing of client-b's to reach
        response = attempt(client, method, path, fill(path, values), token, "client-a")
        status, text = response.status_code, response.text
        assert status in (403, 404), (path, text)
        assert_no_client_b_data(text)
        assert (snapshot(engine), stored_files()) == (before, files)
