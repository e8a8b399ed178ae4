"""Web answers for a constraint race (a 409 page, nothing saved) and HEAD on the sign-in page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assay.assets import service as assets
from assay.tenancy.models import Role
from tests.factories import World, make_asset
from tests.web.support import sign_in, snapshot


def test_a_constraint_race_is_a_409_page_and_saves_nothing(
    client: TestClient,
    session: Session,
    world: World,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_asset(session, world, "client-a", "Web A", "web.client-a.test")
    session.commit()
    token = sign_in(client, world.user("client-a", Role.ADMIN).email)
    # the pre-check sees nothing, as if the other request had not committed yet
    monkeypatch.setattr(assets, "_name_taken", lambda *_args, **_kwargs: None)
    before = snapshot(engine)
    response = client.post(
        "/orgs/client-a/assets",
        data={"name": "Web A", "kind": "host", "criticality": "high", "csrf_token": token},
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Nothing was saved" in response.text
    assert "UNIQUE" not in response.text and "duplicate key" not in response.text
    assert "admin@client-a.test" in response.text  # the signed-in header still works
    assert snapshot(engine) == before
    # the next form goes through
    monkeypatch.undo()
    created = client.post(
        "/orgs/client-a/assets",
        data={"name": "Web B", "kind": "host", "criticality": "high", "csrf_token": token},
    )
    assert created.status_code == 303, created.text


def test_head_on_the_sign_in_page(client: TestClient) -> None:
    response = client.head("/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in response.headers
    assert response.content == b""
    assert client.get("/login").status_code == 200
