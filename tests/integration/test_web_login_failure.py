"""A refused web sign-in changes nothing but the failure count and the audit trail.

Every table is compared row by row before and after: only `login_failures` and
`audit_events` may differ, each by exactly the one row the failed attempt adds, and no web
session exists afterwards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assay.db.registry import Base
from tests.factories import PASSWORD, World, build_world

GROWING = {"login_failures", "audit_events"}
WRONG = "not-the-password-at-all"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


@pytest.fixture
def client(shared_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(shared_app, follow_redirects=False) as test_client:
        yield test_client


def snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, keyed by table name."""
    with engine.connect() as conn:
        found = {
            table.name: [
                dict(row._mapping)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
        conn.rollback()
    return found


def post_login(client: TestClient, email: str, password: str) -> httpx.Response:
    page = client.get("/login")
    found = _CSRF.search(page.text)
    assert found is not None
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": found.group(1)}
    )


def added(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of `after` beyond those of `before`, which must still be there unchanged."""
    assert after[: len(before)] == before
    return after[len(before) :]


@pytest.mark.parametrize(
    "email", ["admin@northwind.test", "nobody@nowhere.test"], ids=["wrong-password", "no-user"]
)
def test_wrong_password_changes_only_the_failure_count_and_the_trail(
    client: TestClient, world: World, engine: Engine, email: str
) -> None:
    before = snapshot(engine)
    assert before["web_sessions"] == []
    response = post_login(client, email, WRONG)
    assert response.status_code == 401
    assert "assay_session" not in response.headers.get("set-cookie", "")
    after = snapshot(engine)

    assert {name: rows for name, rows in after.items() if name not in GROWING} == {
        name: rows for name, rows in before.items() if name not in GROWING
    }
    assert after["web_sessions"] == []

    failures = added(before["login_failures"], after["login_failures"])
    assert [(f["email"], f["client"]) for f in failures] == [(email, "testclient")]
    events = added(before["audit_events"], after["audit_events"])
    assert [e["action"] for e in events] == ["auth.login_failed"]
    assert events[0]["detail"] == {"email": email, "client": "testclient"}
    assert all(WRONG not in str(row) for rows in after.values() for row in rows)

    assert client.get("/orgs/northwind").status_code == 303  # still signed out


def test_right_password_is_the_control(client: TestClient, world: World, engine: Engine) -> None:
    """The same request with the right password does create a session (the test can fail)."""
    before = snapshot(engine)
    assert post_login(client, "admin@northwind.test", PASSWORD).status_code == 303
    after = snapshot(engine)
    assert len(after["web_sessions"]) == 1
    assert [e["action"] for e in added(before["audit_events"], after["audit_events"])] == [
        "auth.login"
    ]
