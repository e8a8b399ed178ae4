"""Errors as RFC 9457 problem documents: shape, media type, HTTP-level errors, no echoes."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from assay.api import handle_error
from assay.errors import AssayError, Conflict, InvalidInput, NotFound, PermissionDenied, Throttled
from assay.tenancy.models import Role
from tests.api.support import PROBLEM_TYPE, AuthFor, assert_problem

V1 = "/api/v1"


def fake_request(path: str = "/api/v1/x", authorization: str | None = None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization else []
    return Request({"type": "http", "method": "GET", "path": path, "headers": headers})


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (InvalidInput("bad"), 422, "invalid-input"),
        (NotFound("gone"), 404, "not-found"),
        (PermissionDenied("no"), 403, "permission-denied"),
        (Conflict("again"), 409, "conflict"),
        (Throttled("slow down"), 429, "throttled"),
    ],
)
def test_service_errors_map_to_problems(error: AssayError, status: int, kind: str) -> None:
    response = asyncio.run(handle_error(fake_request(), error))
    assert response.status_code == status
    assert response.media_type == PROBLEM_TYPE
    assert json.loads(bytes(response.body)) == {
        "type": f"urn:assay:problem:{kind}",
        "title": error.title,
        "status": status,
        "detail": error.message,
        "instance": "/api/v1/x",
    }


def test_unexpected_errors_are_not_disguised() -> None:
    with pytest.raises(RuntimeError):
        asyncio.run(handle_error(fake_request(), RuntimeError("boom")))


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/v1", "/api/v2/orgs", "/api/v1/nothing"])
def test_unknown_api_paths_are_404_problems(client: TestClient, path: str) -> None:
    problem = assert_problem(client.get(path), 404)
    assert problem["title"] == "Not found"
    assert problem["type"] == "urn:assay:problem:not-found"


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.delete(f"{V1}/me")
    problem = assert_problem(response, 405)
    assert problem["type"] == "urn:assay:problem:method-not-allowed"
    assert response.headers["allow"] == "GET"
    put = client.put(f"{V1}/orgs/client-a/members")
    assert_problem(put, 405)
    assert put.headers["allow"] == "GET, POST"


def test_forbidden_and_not_found_from_services(client: TestClient, auth: AuthFor) -> None:
    headers = auth("client-a", Role.IT_OPERATOR)
    forbidden = assert_problem(client.get(f"{V1}/orgs/client-a/audit-events", headers=headers), 403)
    assert forbidden["type"] == "urn:assay:problem:permission-denied"
    assert forbidden["title"] == "Forbidden"
    missing = assert_problem(client.get(f"{V1}/orgs/nowhere", headers=headers), 404)
    assert missing["detail"] == "organization 'nowhere' not found"


def test_validation_problem_lists_field_locations(client: TestClient, auth: AuthFor) -> None:
    response = client.post(
        f"{V1}/orgs/client-a/members",
        headers=auth("client-a", Role.ADMIN),
        json={"email": "x" * 300, "role": "owner", "extra": 1},
    )
    problem = assert_problem(response, 422)
    assert problem["type"] == "urn:assay:problem:validation-error"
    locations = {tuple(issue["location"]) for issue in problem["errors"]}
    assert locations == {("body", "email"), ("body", "role"), ("body", "extra")}
    for issue in problem["errors"]:
        assert set(issue) == {"location", "message", "type"}
        assert issue["message"]
    assert "x" * 300 not in response.text


def test_rejected_values_are_never_echoed(client: TestClient, auth: AuthFor) -> None:
    """Validation errors name the field, not its value: it may be a password or a secret."""
    secret = "hunter2-correct-horse-battery"
    headers = auth("client-a", Role.ADMIN)
    for body in (
        {"name": "x", "password": secret},
        {"name": secret * 5},
        {"name": "x", "expires_in_days": secret},
    ):
        response = client.post(f"{V1}/tokens", headers=headers, json=body)
        assert_problem(response, 422)
        assert secret not in response.text
    broken = client.post(
        f"{V1}/tokens",
        headers={**headers, "Content-Type": "application/json"},
        content='{"name": "' + secret,
    )
    assert_problem(broken, 422)
    assert secret not in broken.text


def test_errors_outside_the_api_are_not_problems(client: TestClient) -> None:
    response = client.get("/no-such-page-anywhere")
    assert response.status_code == 404
    assert not response.headers["content-type"].startswith(PROBLEM_TYPE)
