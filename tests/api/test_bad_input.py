"""Bad input: each case is a clear problem document and leaves the database as it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assay.accounts.models import ApiToken
from assay.tenancy.models import Role
from tests.api.support import AuthFor, assert_problem, bearer, issue_token, snapshot
from tests.factories import World

V1 = "/api/v1"
LONG_SLUG = "a" * 64

# (case id, method, path, JSON body, status, expected error locations or None)
CASES: list[tuple[str, str, str, Any, int, list[list[str | int]] | None]] = [
    (
        "org-slug-too-long",
        "POST",
        "/orgs",
        {"slug": LONG_SLUG, "name": "X", "parent": "northwind"},
        422,
        [["body", "slug"]],
    ),
    (
        "org-name-too-long",
        "POST",
        "/orgs",
        {"slug": "client-c", "name": "N" * 201, "parent": "northwind"},
        422,
        [["body", "name"]],
    ),
    (
        "org-parent-missing",
        "POST",
        "/orgs",
        {"slug": "client-c", "name": "C"},
        422,
        [["body", "parent"]],
    ),
    (
        "org-slug-malformed",
        "POST",
        "/orgs",
        {"slug": "Client C!", "name": "C", "parent": "northwind"},
        422,
        None,
    ),
    (
        "org-name-blank",
        "POST",
        "/orgs",
        {"slug": "client-c", "name": "   ", "parent": "northwind"},
        422,
        None,
    ),
    (
        "org-unknown-parent",
        "POST",
        "/orgs",
        {"slug": "client-c", "name": "C", "parent": "no-such-msp"},
        404,
        None,
    ),
    (
        "member-email-too-long",
        "POST",
        "/orgs/client-a/members",
        {"email": "a" * 250 + "@x.test", "role": "admin"},
        422,
        [["body", "email"]],
    ),
    (
        "member-name-too-long",
        "POST",
        "/orgs/client-a/members",
        {"email": "new@x.test", "role": "admin", "name": "N" * 201},
        422,
        [["body", "name"]],
    ),
    (
        "member-unknown-role",
        "POST",
        "/orgs/client-a/members",
        {"email": "new@x.test", "role": "superuser", "name": "New"},
        422,
        [["body", "role"]],
    ),
    (
        "member-role-wrong-type",
        "POST",
        "/orgs/client-a/members",
        {"email": "new@x.test", "role": 5},
        422,
        [["body", "role"]],
    ),
    (
        "member-email-wrong-type",
        "POST",
        "/orgs/client-a/members",
        {"email": 12345, "role": "admin"},
        422,
        [["body", "email"]],
    ),
    (
        "member-email-invalid",
        "POST",
        "/orgs/client-a/members",
        {"email": "not-an-email", "role": "admin", "name": "N"},
        422,
        None,
    ),
    (
        "member-unknown-field",
        "POST",
        "/orgs/client-a/members",
        {"email": "new@x.test", "role": "admin", "is_superuser": True},
        422,
        [["body", "is_superuser"]],
    ),
    (
        "member-unknown-org",
        "POST",
        "/orgs/no-such-org/members",
        {"email": "new@x.test", "role": "admin", "name": "New"},
        404,
        None,
    ),
    (
        "member-path-slug-too-long",
        "POST",
        f"/orgs/{LONG_SLUG}/members",
        {"email": "new@x.test", "role": "admin", "name": "New"},
        422,
        [["path", "slug"]],
    ),
    ("body-is-a-list", "POST", "/orgs/client-a/members", [1, 2], 422, [["body"]]),
    ("body-is-a-string", "POST", "/orgs/client-a/members", "admin", 422, [["body"]]),
    ("body-is-null", "POST", "/orgs/client-a/auditor-grants", None, 422, [["body"]]),
    (
        "grant-auditor-too-long",
        "POST",
        "/orgs/client-a/auditor-grants",
        {"auditor": LONG_SLUG},
        422,
        [["body", "auditor"]],
    ),
    (
        "grant-auditor-wrong-type",
        "POST",
        "/orgs/client-a/auditor-grants",
        {"auditor": ["watchtower"]},
        422,
        [["body", "auditor"]],
    ),
    (
        "grant-unknown-auditor",
        "POST",
        "/orgs/client-a/auditor-grants",
        {"auditor": "nobody"},
        404,
        None,
    ),
    (
        "token-name-too-long",
        "POST",
        "/tokens",
        {"name": "t" * 101},
        422,
        [["body", "name"]],
    ),
    (
        "member-id-not-a-number",
        "DELETE",
        "/orgs/client-a/members/abc",
        None,
        422,
        [["path", "member_id"]],
    ),
    ("member-id-zero", "DELETE", "/orgs/client-a/members/0", None, 422, [["path", "member_id"]]),
    (
        "member-id-huge",
        "DELETE",
        "/orgs/client-a/members/99999999999999999999",
        None,
        422,
        [["path", "member_id"]],
    ),
    (
        "grant-id-negative",
        "DELETE",
        "/orgs/client-a/auditor-grants/-3",
        None,
        422,
        [["path", "grant_id"]],
    ),
    ("token-id-float", "DELETE", "/tokens/1.5", None, 422, [["path", "token_id"]]),
    ("member-id-unknown", "DELETE", "/orgs/client-a/members/987654", None, 404, None),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "locations"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_a_clear_problem_and_changes_nothing(
    client: TestClient,
    engine: Engine,
    world: World,
    auth: AuthFor,
    method: str,
    path: str,
    body: Any,
    status: int,
    locations: list[list[str | int]] | None,
) -> None:
    headers = auth("northwind", Role.ADMIN)
    before = snapshot(engine)
    kwargs: dict[str, Any] = {"json": body} if body is not None or method == "POST" else {}
    response = client.request(method, V1 + path, headers=headers, **kwargs)
    problem = assert_problem(response, status)
    if locations is not None:
        assert [issue["location"] for issue in problem["errors"]] == locations
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    "raw",
    ['{"email": "a@b.test", "role": ', "{not json}", '{"email": "a@b.test",}', "\x00\xff"],
    ids=["truncated", "unquoted", "trailing-comma", "binary"],
)
def test_malformed_json_is_422_and_changes_nothing(
    client: TestClient, engine: Engine, auth: AuthFor, raw: str
) -> None:
    headers = {**auth("client-a", Role.ADMIN), "Content-Type": "application/json"}
    before = snapshot(engine)
    response = client.post(f"{V1}/orgs/client-a/members", headers=headers, content=raw)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["type"] == "json_invalid"
    assert problem["errors"][0]["location"][0] == "body"
    assert snapshot(engine) == before


def test_missing_body_is_422(client: TestClient, engine: Engine, auth: AuthFor) -> None:
    headers = auth("client-a", Role.ADMIN)
    before = snapshot(engine)
    problem = assert_problem(client.post(f"{V1}/tokens", headers=headers), 422)
    assert problem["errors"][0]["location"] == ["body"]
    assert snapshot(engine) == before


def test_form_encoded_body_is_refused(client: TestClient, engine: Engine, auth: AuthFor) -> None:
    headers = auth("client-a", Role.ADMIN)
    before = snapshot(engine)
    response = client.post(f"{V1}/tokens", headers=headers, data={"name": "form"})
    assert_problem(response, 422)
    assert snapshot(engine) == before


def test_a_refused_request_rolls_back_its_whole_transaction(
    client: TestClient, session: Session, world: World
) -> None:
    """Resolving the token writes `last_used_at` in the request's transaction: a successful
    request commits it, a refused one rolls it back with everything else."""
    secret = issue_token(session, world, "client-a", Role.IT_OPERATOR)

    def last_used() -> datetime | None:
        session.expire_all()
        value = session.scalars(select(ApiToken.last_used_at)).one()
        session.commit()  # release the read transaction (SQLite takes the write lock at BEGIN)
        return value

    assert client.get(f"{V1}/me", headers=bearer(secret)).status_code == 200
    committed = last_used()
    assert committed is not None
    refused = client.get(f"{V1}/orgs/client-a/audit-events", headers=bearer(secret))
    assert_problem(refused, 403)
    assert last_used() == committed
    assert client.get(f"{V1}/me", headers=bearer(secret)).status_code == 200
    latest = last_used()
    assert latest is not None and latest > committed
