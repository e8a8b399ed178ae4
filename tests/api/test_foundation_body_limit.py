"""JSON request bodies are bounded: an oversized body is refused with 413 before it is read to
its end and before anything runs (no token check, no database), whether it declares its length
or arrives in chunks. Routes that stream their own bodies keep their own, larger limits."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.api import bodies
from assay.api.bodies import BoundedBodyRoute
from assay.tenancy.models import Role
from tests.api.support import AuthFor, assert_problem, route_table, snapshot
from tests.factories import World, make_asset, run_document

V1 = "/api/v1"
MAX_JSON_BODY_BYTES = 1024 * 1024
"""The default of ASSAY_MAX_JSON_BODY, which the tests run with."""
MEMBERS = f"{V1}/orgs/client-a/members"
NEW_MEMBER = {"email": "new@client-a.test", "role": "auditor", "name": "New Member"}


def padded(document: dict[str, Any], size: int) -> bytes:
    """`document` as JSON, padded with (legal) trailing whitespace to exactly `size` bytes."""
    body = json.dumps(document).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def json_headers(auth_headers: dict[str, str]) -> dict[str, str]:
    return {**auth_headers, "Content-Type": "application/json"}


def test_every_api_route_bounds_its_parsed_body(app: FastAPI) -> None:
    """From the route table: every /api/v1 route uses the bounded route class, so a route added
    later cannot forget the limit."""
    endpoints = [e for e in route_table(app) if e.path.startswith(V1 + "/")]
    assert len(endpoints) > 40
    unbounded = sorted({e.path for e in endpoints if not isinstance(e.route, BoundedBodyRoute)})
    assert unbounded == [], f"use route_class=BoundedBodyRoute for: {unbounded}"
    with_body = [e for e in endpoints if e.route.body_field is not None]
    assert any(e.path == MEMBERS.replace("client-a", "{slug}") for e in with_body)
    paths = app.openapi()["paths"]
    for endpoint in with_body:
        documented = paths[endpoint.path][endpoint.method.lower()]["responses"]
        assert "application/problem+json" in documented["413"]["content"], endpoint.path


def test_a_body_at_the_limit_is_accepted(client: TestClient, auth: AuthFor) -> None:
    headers = json_headers(auth("client-a", Role.ADMIN))
    body = padded(NEW_MEMBER, MAX_JSON_BODY_BYTES)
    response = client.post(MEMBERS, headers=headers, content=body)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("size", [MAX_JSON_BODY_BYTES + 1, 50 * 1024 * 1024])
def test_an_oversized_body_is_413_and_changes_nothing(
    client: TestClient, auth: AuthFor, engine: Engine, size: int
) -> None:
    headers = json_headers(auth("client-a", Role.ADMIN))
    before = snapshot(engine)
    response = client.post(MEMBERS, headers=headers, content=padded(NEW_MEMBER, size))
    problem = assert_problem(response, 413)
    assert problem["type"] == "urn:assay:problem:content-too-large"
    assert "1 MB" in problem["detail"]
    assert snapshot(engine) == before


def test_a_chunked_body_without_length_is_counted(
    client: TestClient, auth: AuthFor, engine: Engine
) -> None:
    headers = json_headers(auth("client-a", Role.ADMIN))
    body = padded(NEW_MEMBER, MAX_JSON_BODY_BYTES + 1)
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            sent.append(start)
            yield body[start : start + 64 * 1024]

    before = snapshot(engine)
    response = client.post(MEMBERS, headers=headers, content=chunks())
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem(response, 413)
    assert snapshot(engine) == before
    # and a small chunked body goes through
    small = padded(NEW_MEMBER, 4096)
    ok = client.post(MEMBERS, headers=headers, content=iter([small[:100], small[100:]]))
    assert ok.status_code == 201, ok.text


def test_oversized_bodies_are_refused_before_authentication(
    client: TestClient, world: World, engine: Engine
) -> None:
    """Nothing runs for an oversized body, not even the token lookup."""
    before = snapshot(engine)
    response = client.post(
        MEMBERS,
        headers={"Authorization": "Bearer assay_not-a-token", "Content-Type": "application/json"},
        content=padded(NEW_MEMBER, MAX_JSON_BODY_BYTES + 1),
    )
    assert_problem(response, 413)
    assert snapshot(engine) == before


def test_the_limit_is_read_on_each_request(
    client: TestClient, auth: AuthFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = json_headers(auth("client-a", Role.ADMIN))
    monkeypatch.setattr(bodies, "json_body_limit", lambda: 100)
    body = padded(NEW_MEMBER, 101)
    problem = assert_problem(client.post(MEMBERS, headers=headers, content=body), 413)
    assert "100 bytes" in problem["detail"]
    accepted = client.post(MEMBERS, headers=headers, content=padded(NEW_MEMBER, 100))
    assert accepted.status_code == 201, accepted.text


def _raw_post(
    app: FastAPI, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, int]:
    """POST `chunks` straight through ASGI (the test client reads a body whole before the app
    sees it): the status and how many chunks the app pulled."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {
                "type": "http.request",
                "body": chunks[pulled - 1],
                "more_body": pulled < len(chunks),
            }
        await asyncio.sleep(3600)  # the client would wait for the answer
        return {"type": "http.disconnect"}  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return status, pulled


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_body_is_never_read_to_its_end(
    app: FastAPI, auth: AuthFor, engine: Engine, declared: bool
) -> None:
    headers = json_headers(auth("client-a", Role.ADMIN))
    chunk = 256 * 1024
    count = 40  # 10 MiB in all
    if declared:
        headers["Content-Length"] = str(chunk * count)
    before = snapshot(engine)
    status, pulled = _raw_post(app, MEMBERS, headers, [b" " * chunk] * count)
    assert status == 413
    limit_chunks = MAX_JSON_BODY_BYTES // chunk + 1
    assert pulled == (0 if declared else limit_chunks), pulled
    assert snapshot(engine) == before


# --- routes with their own limits ---------------------------------------------------------------


def test_audit_run_submissions_keep_their_larger_limit(
    client: TestClient, session: Session, world: World, auth: AuthFor
) -> None:
    make_asset(session, world, "client-a", "Web A", "web.client-a.test")
    session.commit()
    document = {"asset": "Web A", "run": run_document({"accounts.no_empty_passwords": "pass"})}
    body = padded(document, 2 * MAX_JSON_BODY_BYTES)
    response = client.post(
        f"{V1}/orgs/client-a/audit-runs",
        headers=json_headers(auth("client-a", Role.IT_OPERATOR)),
        content=body,
    )
    assert response.status_code == 201, response.text


def test_uploads_keep_their_own_limit(
    client: TestClient, session: Session, world: World, auth: AuthFor, catalogs: None
) -> None:
    from tests.factories import make_assessment

    objects = make_assessment(session, world, "client-a")
    content = b"x" * (2 * MAX_JSON_BODY_BYTES)
    response = client.post(
        f"{V1}/answers/{objects.answer_id}/evidence",
        headers=auth("client-a", Role.IT_OPERATOR),
        files={"file": ("big.txt", io.BytesIO(content), "text/plain")},
        data={"collected_on": date(2026, 1, 5).isoformat(), "title": "big"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(content)


def test_limit_is_the_setting() -> None:
    from assay.config import settings

    assert bodies.json_body_limit() == settings().max_json_body == MAX_JSON_BODY_BYTES
