"""A unique constraint that fires although the service checked first (two requests racing for
the same name) is a 409 problem, and the request's transaction is rolled back: nothing of it
is kept, not even its audit event. Runs on SQLite and PostgreSQL (ASSAY_TEST_DB)."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.api.deps import DbSession
from assay.assets import service as assets
from assay.tenancy.models import Organization, OrgKind, Role
from tests.api.support import AuthFor, assert_problem, audit_actions, snapshot
from tests.factories import World, make_asset

V1 = "/api/v1"


@pytest.fixture
def race(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's pre-checks see nothing, as if the other request had not committed yet."""
    monkeypatch.setattr(assets, "_name_taken", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(assets, "_identifiers_free", lambda *_args, **_kwargs: None)


def test_a_duplicate_asset_name_is_409_and_rolled_back(
    client: TestClient,
    session: Session,
    world: World,
    auth: AuthFor,
    engine: Engine,
    race: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_asset(session, world, "client-a", "Web A", "web.client-a.test")
    session.commit()
    headers = auth("client-a", Role.ADMIN)
    before, events = snapshot(engine), audit_actions(engine)
    with caplog.at_level(logging.WARNING, logger="assay.api"):
        response = client.post(
            f"{V1}/orgs/client-a/assets",
            headers=headers,
            json={
                "name": "Web A",
                "kind": "host",
                "identifiers": [{"kind": "hostname", "value": "other.client-a.test"}],
            },
        )
    problem = assert_problem(response, 409)
    assert problem["type"] == "urn:assay:problem:conflict"
    assert "nothing was saved" in problem["detail"]
    assert "UNIQUE" not in response.text and "duplicate key" not in response.text
    assert (snapshot(engine), audit_actions(engine)) == (before, events)
    assert any("409 for POST /api/v1/orgs/client-a/assets" in r.message for r in caplog.records)


def test_a_duplicate_identifier_is_409(
    client: TestClient, session: Session, world: World, auth: AuthFor, engine: Engine, race: None
) -> None:
    make_asset(session, world, "client-a", "Web A", "web.client-a.test")
    session.commit()
    headers = auth("client-a", Role.IT_OPERATOR)
    before = snapshot(engine)
    response = client.post(
        f"{V1}/orgs/client-a/assets",
        headers=headers,
        json={
            "name": "Web A again",
            "kind": "host",
            "identifiers": [{"kind": "hostname", "value": "web.client-a.test"}],
        },
    )
    assert_problem(response, 409)
    assert snapshot(engine) == before


def test_the_app_still_works_after_a_conflict(
    client: TestClient, session: Session, world: World, auth: AuthFor, race: None
) -> None:
    """The failed transaction left nothing behind (PostgreSQL: no aborted transaction in the
    pool): the next requests succeed."""
    make_asset(session, world, "client-a", "Web A", "web.client-a.test")
    session.commit()
    headers = auth("client-a", Role.ADMIN)
    url = f"{V1}/orgs/client-a/assets"
    for _ in range(3):
        assert (
            client.post(url, headers=headers, json={"name": "Web A", "kind": "host"}).status_code
            == 409
        )
    created = client.post(url, headers=headers, json={"name": "Web B", "kind": "host"})
    assert created.status_code == 201, created.text
    assert client.get(url, headers=headers).json()["total"] == 2


def test_a_conflict_at_commit_is_409_too(fresh_app: FastAPI, world: World, engine: Engine) -> None:
    """The unit of work commits after the route returned (a row added without a flush): the
    constraint fires then, and is answered the same way."""

    @fresh_app.post("/api/v1/test-only/duplicate-organization", status_code=201)
    def add_duplicate(session: DbSession) -> dict[str, str]:
        session.add(Organization(slug="client-a", name="Twin", kind=OrgKind.MSP))
        return {"added": "client-a"}

    before = snapshot(engine)
    with TestClient(fresh_app) as client:
        response = client.post("/api/v1/test-only/duplicate-organization")
    assert_problem(response, 409)
    assert snapshot(engine) == before
