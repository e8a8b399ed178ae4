"""Bearer-token authentication: anything but a live token is a 401 problem with a challenge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from assay.accounts.models import ApiToken
from assay.db.base import utcnow
from assay.tenancy.models import Membership, Role
from tests.api.support import assert_problem, bearer, issue_token
from tests.factories import World

ME = "/api/v1/me"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token assay_abc"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer assay_" + "x" * 43},
        {"Authorization": "Bearer " + "y" * 5000},
    ],
    ids=[
        "none",
        "empty",
        "scheme-only",
        "blank",
        "basic",
        "other-scheme",
        "garbage",
        "unknown",
        "huge",
    ],
)
def test_missing_or_invalid_token_is_401(
    client: TestClient, world: World, headers: dict[str, str]
) -> None:
    response = client.get(ME, headers=headers)
    problem = assert_problem(response, 401)
    assert problem["type"] == "urn:assay:problem:authentication-failed"
    assert response.headers["www-authenticate"].startswith("Bearer")
    credentials = headers.get("Authorization", "").partition(" ")[2]
    if credentials:
        assert credentials not in response.text


def test_challenge_names_the_error_only_when_a_token_was_sent(client: TestClient) -> None:
    bare = client.get(ME)
    assert bare.headers["www-authenticate"] == 'Bearer realm="assay"'
    wrong = client.get(ME, headers=bearer("assay_nope"))
    assert wrong.headers["www-authenticate"] == 'Bearer realm="assay", error="invalid_token"'


def test_every_v1_route_requires_a_token(client: TestClient, world: World) -> None:
    for method, path in [
        ("GET", "/api/v1/orgs"),
        ("POST", "/api/v1/orgs"),
        ("GET", "/api/v1/orgs/client-a"),
        ("GET", "/api/v1/orgs/client-a/members"),
        ("DELETE", "/api/v1/orgs/client-a/members/1"),
        ("GET", "/api/v1/orgs/client-a/auditor-grants"),
        ("DELETE", "/api/v1/orgs/client-a/auditor-grants/1"),
        ("GET", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/1"),
        ("GET", "/api/v1/orgs/client-a/audit-events"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 401, (method, path, response.text)


def test_live_token_authenticates_and_records_last_use(
    client: TestClient, session: Session, world: World
) -> None:
    secret = issue_token(session, world, "client-a", Role.EXECUTIVE)
    response = client.get(ME, headers=bearer(secret))
    assert response.status_code == 200
    session.expire_all()
    token = session.scalars(select(ApiToken)).one()
    assert token.last_used_at is not None
    session.commit()


def test_revoked_token_is_401(client: TestClient, session: Session, world: World) -> None:
    secret = issue_token(session, world, "client-a", Role.ADMIN)
    session.execute(update(ApiToken).values(revoked_at=utcnow()))
    session.commit()
    problem = assert_problem(client.get(ME, headers=bearer(secret)), 401)
    assert "revoked" in problem["detail"]
    assert secret not in str(problem)


def test_expired_token_is_401(client: TestClient, session: Session, world: World) -> None:
    secret = issue_token(session, world, "client-a", Role.ADMIN)
    session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = client.get(ME, headers=bearer(secret))
    problem = assert_problem(response, 401)
    assert "expired" in problem["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_token_outliving_its_membership_is_401(
    client: TestClient, session: Session, world: World
) -> None:
    secret = issue_token(session, world, "client-a", Role.IT_OPERATOR)
    membership_id = world.memberships[("client-a", Role.IT_OPERATOR)].id
    session.execute(delete(Membership).where(Membership.id == membership_id))
    session.commit()
    assert_problem(client.get(ME, headers=bearer(secret)), 401)


def test_failed_authentication_changes_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    secret = issue_token(session, world, "client-a", Role.ADMIN)
    session.execute(update(ApiToken).values(revoked_at=utcnow()))
    session.commit()
    client.get(ME, headers=bearer(secret))
    session.expire_all()
    assert session.scalars(select(ApiToken)).one().last_used_at is None
    session.commit()
