"""Tenant isolation, derived from the route table.

Every /api/v1 route with path parameters is called, by every role of client-a, of the
ungranted auditor firm `watchtower` and of `sentinel` (granted client-a only), with client-b's
objects. Each call must be refused (403/404) exactly as if the objects did not exist, reveal
none of client-b's data, and change nothing (no row, no stored evidence file). A path parameter
the tables below do not know, an upload route without a body in UPLOADS, or a new route
without path parameters, fails the suite until it is covered here.

The control catalogs are the one kind of data that belongs to no organization: the routes in
CATALOG_ROUTES are declared global, and instead of refusing outsiders they must answer every
authenticated caller alike, carry no organization data, change nothing and refuse anyone
without a token. A route is global only by being listed there, and only if it takes nothing
but catalog parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assay.accounts.models import ApiToken
from assay.assets.service import create_asset
from assay.assets.validation import AssetInput
from assay.config import settings
from assay.tenancy.models import AuditorGrant, OrgKind, Role
from tests.api.support import AuthFor, Endpoint, bearer, issue_token, route_table, snapshot
from tests.factories import (
    SYSTEM,
    AssessmentObjects,
    World,
    make_assessment,
    make_audit_runs,
    make_org,
    run_document,
)

V1 = "/api/v1"
OUTSIDERS = ("client-a", "watchtower", "sentinel")
B_TOKEN_NAME = "client-b-deploy-key"


B_ASSET = "client-b-secret-host"
B_REGISTER_ASSET = "client-b-secret-database"
B_ASSET_OWNER = "b-secret-dba"
B_ASSET_ID = ("hostname", "b-secret-db.client-b.test")
B_HOST = "secret-host.client-b.test"
B_RISK = "client-b-secret-risk"

CATALOG_FRAMEWORK = "cis-controls-v8.1"
CATALOG_LABEL = "1.1"


@dataclass(frozen=True)
class Target:
    """Values for every known path parameter. The catalog ones name real, global catalog
    entries (the same for client-b and its ghost twin): only organization data differs."""

    slug: str
    member_id: int
    grant_id: int
    token_id: int
    assessment_id: int = 0
    other_id: int = 0  # a second assessment (to compare with)
    answer_id: int = 0
    evidence_id: int = 0
    run_id: int = 0  # a host audit run
    asset_id: int = 0  # an asset of the register
    other_run_id: int = 0  # a second run (to diff with)
    risk_id: int = 0  # a risk of the register
    framework: str = CATALOG_FRAMEWORK
    label: str = CATALOG_LABEL
    control: str = CATALOG_LABEL  # a control of the (CIS) assessment


# How to fill each path parameter. A route with a parameter missing here fails the test.
PATH_PARAMETERS: dict[str, Callable[[Target], str]] = {
    "slug": lambda t: t.slug,
    "member_id": lambda t: str(t.member_id),
    "grant_id": lambda t: str(t.grant_id),
    "token_id": lambda t: str(t.token_id),
    "assessment_id": lambda t: str(t.assessment_id),
    "other_id": lambda t: str(t.other_id),
    "answer_id": lambda t: str(t.answer_id),
    "evidence_id": lambda t: str(t.evidence_id),
    "run_id": lambda t: str(t.run_id),
    "asset_id": lambda t: str(t.asset_id),
    "other_run_id": lambda t: str(t.other_run_id),
    "risk_id": lambda t: str(t.risk_id),
    "framework": lambda t: t.framework,
    "label": lambda t: t.label,
    "control": lambda t: t.control,
}
# Parameters that name global catalog data, never an organization's.
CATALOG_PARAMETERS = {"framework", "label"}
# Parameters naming an organization's objects, in the order a route nests them: the first may
# be the caller's own object while the later ones are client-b's (see `attempts`).
OBJECT_PARAMETERS = (
    "assessment_id",
    "answer_id",
    "other_id",
    "evidence_id",
    "run_id",
    "other_run_id",
    "asset_id",
    "risk_id",
)
GHOST = Target(
    slug="ghost-org",
    member_id=987_654,
    grant_id=987_655,
    token_id=987_656,
    assessment_id=987_657,
    other_id=987_658,
    answer_id=987_659,
    evidence_id=987_660,
    run_id=987_661,
    other_run_id=987_662,
    asset_id=987_663,
    risk_id=987_664,
)

# Routes that read a multipart body themselves (streamed uploads): the valid body to send.
UPLOADS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/answers/{answer_id}/evidence"): {
        "files": {"file": ("outsider.txt", b"an outsider's evidence", "text/plain")},
        "data": {"collected_on": "2026-01-05", "title": "outsider"},
    },
    ("POST", "/api/v1/assessments/{assessment_id}/import"): {
        "files": {
            "file": (
                "answers.csv",
                b"control,status,maturity,justification,notes,owner,implemented_by\n"
                b"1.1,fully,3,,outsider,,\n",
                "text/csv",
            )
        },
    },
    ("POST", "/api/v1/orgs/{slug}/assets/import"): {
        "files": {"file": ("assets.csv", b"name,kind,identifiers\nsneaky,host,ip:10.6.6.6\n")},
        "data": {"update": "true"},
    },
}

# Routes that read a JSON body themselves (bounded, streamed): the valid body to send.
JSON_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/orgs/{slug}/audit-runs"): {
        "json": {"asset": B_ASSET, "run": run_document({"accounts.no_empty_passwords": "pass"})}
    },
}

# Routes without path parameters, each covered by a dedicated test below.
GLOBAL_ROUTES = {
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/orgs"),
    ("POST", "/api/v1/orgs"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
}

# Read-only routes over the installation-wide control catalogs, with a valid request for each.
# Being listed here exempts a route from the refusal check above; it must then pass
# test_catalog_routes_are_global_and_reveal_no_organization instead.
CATALOG_ROUTES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/api/v1/frameworks"): {"limit": "200"},
    ("GET", "/api/v1/frameworks/{framework}"): {},
    ("GET", "/api/v1/frameworks/{framework}/controls"): {"limit": "200"},
    ("GET", "/api/v1/frameworks/{framework}/controls/{label}"): {},
    ("GET", "/api/v1/catalog/search"): {"q": "a", "limit": "200"},
    ("GET", "/api/v1/catalog/map"): {
        "control": CATALOG_LABEL,
        "from": CATALOG_FRAMEWORK,
        "to": "nist-csf-2.0",
    },
}


@dataclass(frozen=True)
class ClientB:
    """client-b's objects and the strings that would betray them in a response."""

    target: Target
    secrets: tuple[str, ...]


@pytest.fixture
def client_b(session: Session, world: World) -> ClientB:
    """Give client-b a grant (to a third firm), a token, and collect its identifiers."""
    lookout = make_org(session, "lookout-audit", OrgKind.AUDITOR)
    grant = AuditorGrant(organization_id=world.orgs["client-b"].id, auditor_org_id=lookout.id)
    session.add(grant)
    session.commit()
    issue_token(session, world, "client-b", Role.IT_OPERATOR, name=B_TOKEN_NAME)
    token = session.scalars(select(ApiToken).where(ApiToken.name == B_TOKEN_NAME)).one()
    session.commit()
    emails = tuple(world.user("client-b", role).email for role in Role)
    asset = create_asset(
        session,
        SYSTEM,
        "client-b",
        AssetInput(B_REGISTER_ASSET, "data_store", owner=B_ASSET_OWNER, identifiers=[B_ASSET_ID]),
    )
    session.commit()
    target = Target(
        slug="client-b",
        member_id=world.memberships[("client-b", Role.IT_OPERATOR)].id,
        grant_id=grant.id,
        token_id=token.id,
        asset_id=asset.id,
        risk_id=_b_risk(session),
    )
    secrets = (*emails, world.orgs["client-b"].name, "lookout-audit", B_TOKEN_NAME, token.prefix)
    secrets = (*secrets, B_REGISTER_ASSET, B_ASSET_OWNER, B_ASSET_ID[1])
    secrets = (*secrets, B_RISK)
    return ClientB(target, secrets)


def _b_risk(session: Session) -> int:
    """A risk of client-b's register, with FAIR estimates (so it can be simulated)."""
    from assay.risk.service import create_risk

    fields = {"title": B_RISK, "inherent_likelihood": 3, "inherent_impact": 4}
    risk = create_risk(session, SYSTEM, "client-b", {**fields, "fair": {"lef": 1, "lm": 9}})
    session.commit()
    return risk.id


B_ASSESSMENT = "Client B secret CIS review"
B_NOTES = "b-secret-notes"
B_FILE = "b-secret-evidence.txt"


@dataclass(frozen=True)
class Assessed:
    """client-b with assessments (an answer with a file, a second cycle), and client-a's own
    assessment objects for the attempts that mix one's own object with client-b's."""

    b: ClientB
    own: Target


@pytest.fixture
def assessed(session: Session, world: World, client_b: ClientB, catalogs: None) -> Assessed:
    b_ids = make_assessment(
        session, world, "client-b", name=B_ASSESSMENT, notes=B_NOTES, filename=B_FILE
    )
    a_ids = make_assessment(session, world, "client-a")
    b_runs = make_audit_runs(session, world, "client-b", B_ASSET, B_HOST)
    a_runs = make_audit_runs(session, world, "client-a", "A web", "web.client-a.test")

    def target(base: Target, ids: AssessmentObjects, runs: tuple[int, int]) -> Target:
        return replace(
            base,
            assessment_id=ids.assessment_id,
            other_id=ids.next_id,
            answer_id=ids.answer_id,
            evidence_id=ids.evidence_id,
            run_id=runs[0],
            other_run_id=runs[1],
        )

    secrets = (*client_b.secrets, B_ASSESSMENT, B_NOTES, B_FILE, B_ASSET, B_HOST)
    b = ClientB(target(client_b.target, b_ids, b_runs), secrets)
    own = target(Target("client-a", 0, 0, 0), a_ids, a_runs)
    return Assessed(b, own)


def evidence_files() -> list[str]:
    root = settings().data_dir / "evidence"
    return sorted(str(p) for p in root.rglob("*")) if root.exists() else []


def v1_routes(app: FastAPI) -> list[Endpoint]:
    """Every method of every route under /api/v1, cross-checked against the OpenAPI paths."""
    found = [e for e in route_table(app) if e.path.startswith(V1 + "/")]
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(V1 + "/")
        for method in operations
    }
    assert {(e.method, e.path) for e in found} == documented, "route table and OpenAPI disagree"
    assert len(found) >= 14
    return found


def path_params(endpoint: Endpoint) -> list[str]:
    return re.findall(r"{(\w+)(?::\w+)?}", endpoint.path)


def example_body(endpoint: Endpoint) -> dict[str, Any] | None:
    """A valid body for the route: the first example its request model documents."""
    params = endpoint.route.dependant.body_params
    if not params:
        return None
    assert len(params) == 1, f"{endpoint.path}: expected one body model"
    model = params[0].field_info.annotation
    assert isinstance(model, type) and issubclass(model, BaseModel), endpoint.path
    examples = model.model_json_schema().get("examples")
    if not examples:
        pytest.fail(f"{model.__name__} ({endpoint.path}) documents no example body: add one")
    body: dict[str, Any] = examples[0]
    model.model_validate(body)
    return body


def fill(endpoint: Endpoint, target: Target) -> str:
    path = endpoint.path
    for name in path_params(endpoint):
        if name not in PATH_PARAMETERS:
            pytest.fail(f"unknown path parameter {name!r} in {endpoint.path}: teach this test")
        path = path.replace("{" + name + "}", PATH_PARAMETERS[name](target))
    return path


def normalized(problem: dict[str, Any], target: Target, endpoint: Endpoint) -> dict[str, Any]:
    """The problem with the caller-supplied path values masked, to compare with a ghost call.
    One mask for every parameter: two parameters may have the same value (answer 3 and
    evidence 3), which the ghost's never do."""
    detail = str(problem.get("detail", ""))
    for name in path_params(endpoint):
        value = PATH_PARAMETERS[name](target)
        detail = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", "{path value}", detail)
    return {**{k: v for k, v in problem.items() if k != "instance"}, "detail": detail}


def attempts(
    endpoint: Endpoint, own_slug: str, b: Target, own: Target
) -> list[tuple[Target, Target]]:
    """(client-b target, ghost twin) pairs. Object ids are also tried under the caller's own
    slug, where only the object-level check stands between the caller and client-b's object;
    and where a route names two objects, client-a's own first object with client-b's second
    one (the caller's own for client-a's members and sentinel, out of reach for watchtower)."""
    ghost = GHOST
    pairs = [(b, ghost)]
    params = path_params(endpoint)
    if "slug" in params and len(params) > 1:
        pairs.append((replace(b, slug=own_slug), replace(ghost, slug=own_slug)))
    objects = [p for p in OBJECT_PARAMETERS if p in params]
    if len(objects) > 1:
        first = objects[0]
        mine = {first: getattr(own, first)}
        pairs.append((replace(b, **mine), replace(ghost, **mine)))
    return pairs


def request_body(endpoint: Endpoint, openapi: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for a valid request: a multipart upload, or the example JSON body."""
    operation = openapi["paths"][endpoint.path][endpoint.method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        upload = UPLOADS.get((endpoint.method, endpoint.path))
        if upload is None:
            pytest.fail(f"{endpoint.method} {endpoint.path} takes an upload: add it to UPLOADS")
        return upload
    if "application/json" in content and not endpoint.route.dependant.body_params:
        raw = JSON_BODIES.get((endpoint.method, endpoint.path))
        if raw is None:
            pytest.fail(f"{endpoint.method} {endpoint.path} reads its JSON: add it to JSON_BODIES")
        return raw
    return {"json": example_body(endpoint)}


TENANT_FIELDS = ("org", "user", "member", "token", "grant", "actor", "email")


def json_keys(value: Any) -> set[str]:
    """Every key of every object in a JSON document."""
    if isinstance(value, dict):
        return set(value).union(*(json_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(json_keys(v) for v in value))
    return set()


def is_catalog_route(endpoint: Endpoint) -> bool:
    return (endpoint.method, endpoint.path) in CATALOG_ROUTES


def test_every_route_refuses_client_b_objects_to_outsiders(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    assessed: Assessed,
    auth: AuthFor,
) -> None:
    client_b = assessed.b
    endpoints = [e for e in v1_routes(app) if path_params(e) and not is_catalog_route(e)]
    assert len(endpoints) >= 9
    openapi = app.openapi()
    callers = {(slug, role): auth(slug, role) for slug in OUTSIDERS for role in Role}
    before = snapshot(engine)
    files_before = evidence_files()
    failures: list[str] = []
    calls = 0
    for endpoint in endpoints:
        body = request_body(endpoint, openapi)
        for (slug, role), headers in callers.items():
            for real, ghost in attempts(endpoint, slug, client_b.target, assessed.own):
                who = f"{endpoint.method} {fill(endpoint, real)} as {role.value}@{slug}"
                got = client.request(endpoint.method, fill(endpoint, real), headers=headers, **body)
                twin = client.request(
                    endpoint.method, fill(endpoint, ghost), headers=headers, **body
                )
                calls += 1
                if got.status_code not in (403, 404):
                    failures.append(f"{who}: status {got.status_code} {got.text[:200]}")
                    continue
                leaked = [s for s in client_b.secrets if s.lower() in got.text.lower()]
                if leaked:
                    failures.append(f"{who}: response reveals {leaked}: {got.text[:200]}")
                same_as_ghost = got.status_code == twin.status_code and normalized(
                    got.json(), real, endpoint
                ) == normalized(twin.json(), ghost, endpoint)
                if not same_as_ghost:
                    failures.append(f"{who}: unlike a missing object: {got.text} / {twin.text}")
    after = snapshot(engine)
    assert not failures, f"{len(failures)} of {calls} calls failed:\n" + "\n".join(failures)
    assert after == before, "refused requests changed the database"
    assert evidence_files() == files_before, "refused uploads stored a file"
    assert calls >= len(endpoints) * len(callers)


def test_routes_without_path_parameters_are_all_covered(app: FastAPI) -> None:
    unparametrized = {
        (e.method, e.path) for e in v1_routes(app) if not path_params(e) and not is_catalog_route(e)
    }
    assert unparametrized == GLOBAL_ROUTES, (
        "routes without path parameters changed: cover the new ones in this module "
        f"(new: {unparametrized - GLOBAL_ROUTES}, gone: {GLOBAL_ROUTES - unparametrized})"
    )


def test_catalog_routes_are_declared_exactly_and_take_only_catalog_parameters(
    app: FastAPI,
) -> None:
    """The allow-list names existing read-only routes that cannot address organization data.
    A route it does not name, even one with catalog parameters only, must refuse outsiders in
    test_every_route_refuses_client_b_objects_to_outsiders like any other."""
    endpoints = {(e.method, e.path): e for e in v1_routes(app)}
    assert set(CATALOG_ROUTES) <= set(endpoints), set(CATALOG_ROUTES) - set(endpoints)
    for method, path in CATALOG_ROUTES:
        endpoint = endpoints[(method, path)]
        assert method == "GET", f"{method} {path}: global catalog routes are read-only"
        assert set(path_params(endpoint)) <= CATALOG_PARAMETERS, f"{path}: organization parameter"
        query = {p.alias for p in endpoint.route.dependant.query_params}
        assert not query & {"slug", "org", "organization"}, f"{path}: organization parameter"
        assert not endpoint.route.dependant.body_params, path


@pytest.mark.parametrize("slug", (*OUTSIDERS, "client-b", "northwind"))
def test_catalog_routes_are_global_and_reveal_no_organization(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    client_b: ClientB,
    auth: AuthFor,
    world: World,
    catalogs: None,
    slug: str,
) -> None:
    """Every role of every kind of organization reads the same catalog; nothing in it names
    an organization, a user or a token; reading changes nothing; no token, no catalog."""
    endpoints = [e for e in v1_routes(app) if is_catalog_route(e)]
    assert len(endpoints) == len(CATALOG_ROUTES)
    org_strings = [
        *client_b.secrets,
        *(user.email for user in world.users.values()),
        *(org.name for org in world.orgs.values()),
        *(f'"{org.slug}"' for org in world.orgs.values()),
    ]
    reference = auth("client-a", Role.EXECUTIVE)
    callers = {role: auth(slug, role) for role in Role}
    before = snapshot(engine)
    failures: list[str] = []
    for endpoint in endpoints:
        url = fill(endpoint, client_b.target)
        params = CATALOG_ROUTES[(endpoint.method, endpoint.path)]
        expected = client.get(url, headers=reference, params=params)
        assert expected.status_code == 200, f"{url}: {expected.text[:300]}"
        anonymous = client.get(url, params=params)
        if anonymous.status_code != 401 or "WWW-Authenticate" not in anonymous.headers:
            failures.append(f"{url} without a token: {anonymous.status_code}")
        for role, headers in callers.items():
            got = client.get(url, headers=headers, params=params)
            who = f"GET {url} as {role.value}@{slug}"
            if got.status_code != 200 or got.json() != expected.json():
                failures.append(f"{who}: not the same catalog: {got.status_code} {got.text[:200]}")
            leaked = [s for s in org_strings if s.lower() in got.text.lower()]
            if leaked:
                failures.append(f"{who}: response names {leaked}")
            fields = [k for k in json_keys(got.json()) if k.startswith(TENANT_FIELDS)]
            if fields:
                failures.append(f"{who}: response has tenant fields {fields}")
    assert not failures, "\n".join(failures)
    assert snapshot(engine) == before, "reading catalogs changed the database"


def _listed_slugs(client: TestClient, headers: dict[str, str]) -> set[str]:
    response = client.get(f"{V1}/orgs", headers=headers, params={"limit": 200})
    assert response.status_code == 200, response.text
    return {org["slug"] for org in response.json()["items"]}


EXPECTED_VISIBLE = {
    "client-a": {"client-a"},
    "watchtower": {"watchtower"},
    "sentinel": {"sentinel", "client-a"},
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("slug", OUTSIDERS)
def test_global_routes_never_return_client_b_data(
    client: TestClient, engine: Engine, client_b: ClientB, auth: AuthFor, slug: str, role: Role
) -> None:
    headers = auth(slug, role)
    assert _listed_slugs(client, headers) == EXPECTED_VISIBLE[slug]
    before = snapshot(engine)
    responses = [
        client.get(f"{V1}/me", headers=headers),
        client.get(f"{V1}/orgs", headers=headers, params={"limit": 200}),
        client.get(f"{V1}/tokens", headers=headers, params={"limit": 200}),
        client.post(
            f"{V1}/orgs",
            headers=headers,
            json={"slug": "sneaky", "name": "Sneaky", "parent": "northwind"},
        ),
    ]
    for response in responses:
        text = response.text.lower()
        assert "client-b" not in text, response.text
        assert not [s for s in client_b.secrets if s.lower() in text], response.text
    assert responses[3].status_code == 404  # northwind is out of their reach
    assert snapshot(engine) == before
    created = client.post(f"{V1}/tokens", headers=headers, json={"name": "mine"})
    assert created.status_code == 201
    assert "client-b" not in created.text
    listed = client.get(f"{V1}/tokens", headers=headers, params={"limit": 200}).json()["items"]
    own_org = {t["organization_id"] for t in listed}
    assert len(own_org) == 1 and client_b.target.token_id not in {t["id"] for t in listed}


def test_msp_admin_sees_its_own_clients_only(client: TestClient, auth: AuthFor) -> None:
    assert _listed_slugs(client, auth("northwind", Role.ADMIN)) == {
        "northwind",
        "client-a",
        "client-b",
    }
    assert _listed_slugs(client, auth("otherco", Role.ADMIN)) == {"otherco", "client-z"}


def test_tokens_of_another_org_are_invisible_to_an_msp_admin(
    client: TestClient, client_b: ClientB, auth: AuthFor
) -> None:
    """Managing a client does not reach into the client's personal tokens."""
    headers = auth("northwind", Role.ADMIN)
    listed = client.get(f"{V1}/tokens", headers=headers).json()["items"]
    assert client_b.target.token_id not in {t["id"] for t in listed}
    response = client.delete(f"{V1}/tokens/{client_b.target.token_id}", headers=headers)
    assert response.status_code == 404


def test_token_of_one_org_cannot_act_in_another(
    client: TestClient, session: Session, world: World
) -> None:
    """A token is bound to its organization: it never reaches client-b, even by slug."""
    secret = issue_token(session, world, "client-a", Role.ADMIN)
    response = client.get(f"{V1}/orgs/client-b/members", headers=bearer(secret))
    assert response.status_code == 404
