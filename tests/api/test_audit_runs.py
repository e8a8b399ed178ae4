"""The host audit API: agents and auditors submit runs (validated, bounded, digest
recomputed), people read runs, the fleet, drift and suggestions. Refusals of other tenants'
runs are covered for every route in test_tenant_isolation.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.tenancy.models import Role
from tests.api.support import AuthFor, assert_problem, audit_actions, snapshot
from tests.factories import World, make_asset, make_audit_runs, run_document

URL = "/api/v1/orgs/client-a/audit-runs"


@pytest.fixture
def assets(session: Session, world: World) -> None:
    make_asset(session, world, "client-a", "Web A", "web.client-a.test")
    session.commit()


def _post(client: TestClient, headers: dict[str, str], body: Any, **extra: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        URL, content=raw, headers={**headers, "Content-Type": "application/json", **extra}
    )


def test_submit_then_read_list_fleet_and_diff(
    client: TestClient, auth: AuthFor, assets: None, engine: Engine
) -> None:
    operator = auth("client-a", Role.IT_OPERATOR)
    document = run_document({"accounts.no_empty_passwords": "pass"})
    document["digest"] = "f" * 64  # a submitted digest is ignored: the server computes its own
    first = _post(client, operator, {"asset": "web.client-a.test", "run": document})
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["asset"] == "Web A" and stored["collected_by"] == "operator"
    assert stored["digest"] != "f" * 64 and stored["via"] == "api"
    auditor = auth("sentinel", Role.AUDITOR)
    later = run_document({"accounts.no_empty_passwords": "fail"})
    second = _post(client, auditor, {"asset": "Web A", "run": later})
    assert second.status_code == 201 and second.json()["collected_by"] == "auditor"
    assert audit_actions(engine).count("audit_run.store") == 2

    reader = auth("client-a", Role.EXECUTIVE)
    listed = client.get(URL, headers=reader).json()
    assert listed["total"] == 2 and [r["id"] for r in listed["items"]] == [
        second.json()["id"],
        stored["id"],
    ]
    detail = client.get(f"/api/v1/audit-runs/{stored['id']}", headers=reader).json()
    assert detail["organization"] == "client-a"
    assert detail["results"][0]["locations"] == [{"path": "/etc/shadow", "line": 2}]
    fleet = client.get("/api/v1/orgs/client-a/fleet", headers=reader).json()["items"]
    assert fleet[0]["asset"] == "Web A" and fleet[0]["latest"]["id"] == second.json()["id"]
    drift = client.get(
        f"/api/v1/audit-runs/{stored['id']}/diff/{second.json()['id']}", headers=reader
    ).json()
    assert drift["counts"]["broke"] == 1
    assert drift["changes"] == [
        {"check": "accounts.no_empty_passwords", "kind": "broke", "before": "pass", "after": "fail"}
    ]


def test_suggestions_follow_the_latest_runs(
    client: TestClient, session: Session, world: World, auth: AuthFor, catalogs: None
) -> None:
    make_audit_runs(session, world, "client-a", "Web A", "web.client-a.test")
    headers = auth("northwind", Role.ADMIN)
    created = client.post(
        "/api/v1/orgs/client-a/assessments",
        headers=headers,
        json={"framework": "cis-controls-v8.1", "name": "CIS", "target_ig": 1},
    ).json()
    found = client.get(f"/api/v1/assessments/{created['id']}/suggestions", headers=headers)
    assert found.status_code == 200
    rows = {row["control"]: row for row in found.json()["suggestions"]}
    assert rows["5.2"]["suggested_status"] == "not_implemented"
    assert rows["5.2"]["failing"] == ["Web A: accounts.no_empty_passwords"]


def _result(**fields: Any) -> dict[str, Any]:
    document = run_document({"accounts.no_empty_passwords": "pass"})
    document["results"][0].update(fields)
    return document


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"", 422, "invalid audit run"),
        (b"{not json", 422, "invalid audit run"),
        (b"\xff\xfe\x00garbage", 422, "invalid audit run"),
        ({"asset": "Web A"}, 422, "run"),
        ({"asset": "Web A", "run": {**run_document({}), "results": []}}, 422, "results"),
        ({"asset": "Web A", "run": _result(status="great")}, 422, "status"),
        ({"asset": "Web A", "run": _result(id="../../etc")}, 422, "id"),
        ({"asset": "Web A", "run": _result(observed="x" * 5000)}, 422, "observed"),
        ({"asset": "Web A", "run": {**_result(), "started_at": "yesterday"}}, 422, "started_at"),
        ({"asset": "nope", "run": _result()}, 404, "asset 'nope' not found"),
        ({"asset": "Web A", "run": _result(), "extra": 1}, 422, "extra"),
    ],
)
def test_bad_submissions_store_nothing(
    client: TestClient,
    auth: AuthFor,
    assets: None,
    engine: Engine,
    body: Any,
    status: int,
    needle: str,
) -> None:
    headers = auth("client-a", Role.IT_OPERATOR)
    before = snapshot(engine)
    problem = assert_problem(_post(client, headers, body), status)
    assert needle in problem["detail"]
    assert snapshot(engine) == before


def test_wrong_media_type_and_oversized_bodies_are_refused_before_reading(
    client: TestClient, auth: AuthFor, assets: None, engine: Engine
) -> None:
    headers = auth("client-a", Role.IT_OPERATOR)
    before = snapshot(engine)
    as_form = client.post(URL, headers=headers, data={"asset": "Web A"})
    assert_problem(as_form, 415)
    huge = client.post(
        URL,
        headers={**headers, "Content-Type": "application/json"},
        content=b'{"asset": "Web A", "run": {"target": "' + b"x" * (33 * 1024 * 1024) + b'"}}',
    )
    assert_problem(huge, 413)
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("slug", "role", "status"),
    [
        ("client-a", Role.EXECUTIVE, 403),
        ("sentinel", Role.EXECUTIVE, 403),
        ("client-b", Role.ADMIN, 404),
        ("watchtower", Role.AUDITOR, 404),
    ],
)
def test_who_may_not_submit(
    client: TestClient,
    auth: AuthFor,
    assets: None,
    engine: Engine,
    slug: str,
    role: Role,
    status: int,
) -> None:
    headers = auth(slug, role)
    before = snapshot(engine)
    response = _post(client, headers, {"asset": "Web A", "run": _result()})
    assert_problem(response, status)
    assert snapshot(engine) == before
