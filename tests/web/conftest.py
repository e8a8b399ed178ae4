"""Fixtures for the web page tests: the app, a test client and a committed world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import World, build_world


@pytest.fixture
def app(shared_app: FastAPI) -> FastAPI:
    return shared_app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def world(session: Session) -> World:
    """The shared test world, committed so that the app sees it (the session holds no lock)."""
    built = build_world(session)
    session.commit()
    return built
