"""Oversized and malformed forms are refused before any service runs."""

from __future__ import annotations

from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from assay.config import settings
from tests.factories import World
from tests.web.support import cookie_header, csrf_from, sign_in, snapshot


def test_a_field_over_the_limit_is_refused_and_nothing_changes(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    before = snapshot(engine)
    too_long = "x" * (settings().max_form_field_chars + 1)
    response = client.post(
        "/orgs/client-a/members",
        data={
            "email": "new@client-a.test",
            "role": "auditor",
            "name": too_long,
            "csrf_token": token,
        },
    )
    assert response.status_code == 413
    assert "the field 'name' is longer than" in unescape(response.text)
    assert too_long not in response.text
    assert snapshot(engine) == before


def test_a_field_at_the_limit_reaches_the_service(client: TestClient, world: World) -> None:
    token = sign_in(client, "admin@northwind.test")
    at_limit = "x" * settings().max_form_field_chars
    response = client.post(
        "/orgs/northwind/clients", data={"slug": at_limit, "name": "Big", "csrf_token": token}
    )
    assert response.status_code == 422  # the service's own rule on slugs answers, not the reader
    assert "invalid slug" in response.text


def test_an_oversized_body_is_refused(client: TestClient, world: World, engine: Engine) -> None:
    token = sign_in(client, "admin@northwind.test")
    before = snapshot(engine)
    limit = settings().max_form_field_chars
    data = {f"f{i}": "y" * limit for i in range(20)}
    data.update({"email": "new@client-a.test", "role": "auditor", "csrf_token": token})
    response = client.post("/orgs/client-a/members", data=data)
    assert response.status_code == 413
    assert "the form is larger than" in response.text
    assert snapshot(engine) == before


def test_too_many_fields_are_refused(client: TestClient, world: World, engine: Engine) -> None:
    token = sign_in(client, "admin@northwind.test")
    before = snapshot(engine)
    data = {f"f{i}": "1" for i in range(100)}
    data["csrf_token"] = token
    response = client.post("/orgs/northwind/clients", data=data)
    assert response.status_code == 413
    assert snapshot(engine) == before


def test_an_oversized_password_is_refused_without_echoing_it(
    client: TestClient, world: World, engine: Engine
) -> None:
    page = client.get("/login")
    before = snapshot(engine)
    password = "secret-" + "p" * settings().max_form_field_chars
    response = client.post(
        "/login",
        data={
            "email": "admin@northwind.test",
            "password": password,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 413
    assert "secret-ppp" not in response.text
    assert cookie_header(response, "assay_session") is None
    assert snapshot(engine) == before


def test_control_characters_are_refused(client: TestClient, world: World, engine: Engine) -> None:
    token = sign_in(client, "admin@northwind.test")
    before = snapshot(engine)
    response = client.post(
        "/orgs/northwind/clients", data={"slug": "c-nul", "name": "a\x00b", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "control characters" in response.text
    assert snapshot(engine) == before


def test_only_url_encoded_forms_are_accepted(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    before = snapshot(engine)
    response = client.post(
        "/orgs/northwind/clients",
        files={"upload": ("a.txt", b"hello")},
        data={"slug": "client-c", "name": "Client C", "csrf_token": token},
    )
    assert response.status_code == 415
    assert snapshot(engine) == before


def test_a_service_error_shows_the_form_again_with_its_status(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    before = snapshot(engine)
    response = client.post(
        "/orgs/client-a/members",
        data={"email": "stranger@nowhere.test", "role": "executive", "csrf_token": token},
    )
    assert response.status_code == 404
    assert "user 'stranger@nowhere.test' not found" in unescape(response.text)
    assert 'value="stranger@nowhere.test"' in response.text  # the form keeps what was typed
    assert '<option value="executive" selected>' in response.text
    assert snapshot(engine) == before

    response = client.post(
        "/orgs/northwind/clients", data={"slug": "Not A Slug", "name": "X", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "invalid slug" in response.text
    assert snapshot(engine) == before
