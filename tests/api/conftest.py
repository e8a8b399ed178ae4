"""Fixtures for the API tests: the app, a client, and the standard world with its tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assay.tenancy.models import Role
from tests.api.support import AuthFor, bearer, issue_token
from tests.factories import World, build_world


@pytest.fixture
def app(shared_app: FastAPI) -> FastAPI:
    return shared_app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(session: Session) -> World:
    """The standard world, committed so that the app sees it."""
    built = build_world(session)
    session.commit()
    return built


@pytest.fixture
def auth(session: Session, world: World) -> AuthFor:
    """`auth(slug, role)`: Authorization headers for that user, one token per user and test."""
    secrets: dict[tuple[str, Role], str] = {}

    def headers(slug: str, role: Role) -> dict[str, str]:
        if (slug, role) not in secrets:
            secrets[(slug, role)] = issue_token(session, world, slug, role)
        return bearer(secrets[(slug, role)])

    return headers
