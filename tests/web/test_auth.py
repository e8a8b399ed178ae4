"""Signing in and out: cookies, wrong passwords, throttling, where the visitor lands."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from assay.accounts.models import LoginFailure, WebSession
from assay.auditlog.models import AuditEvent
from assay.config import settings
from assay.db.engine import unit_of_work
from tests.factories import PASSWORD, World
from tests.web.support import cookie_header, csrf_from, sign_in


def count(engine: Engine, model: type) -> int:
    with unit_of_work(engine) as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def post_login(client: TestClient, email: str, password: str) -> httpx.Response:
    page = client.get("/login")
    response: httpx.Response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text)}
    )
    return response


def test_login_page_sets_a_nonce_cookie_and_a_matching_token(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    nonce = cookie_header(page, "assay_csrf")
    assert nonce is not None
    assert "httponly" in nonce.lower()
    assert "samesite=lax" in nonce.lower()
    assert 'name="csrf_token"' in page.text
    assert 'type="password"' in page.text


def test_sign_in_sets_a_hardened_session_cookie(
    client: TestClient, world: World, engine: Engine
) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": "admin@northwind.test",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/orgs/")
    cookie = cookie_header(response, "assay_session")
    assert cookie is not None
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "secure" not in flags  # plain http here; see the https test
    assert count(engine, WebSession) == 1
    assert client.get("/orgs/northwind").status_code == 200


def test_session_cookie_is_secure_over_https(app: FastAPI, world: World) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        page = client.get("/login")
        assert "secure" in (cookie_header(page, "assay_csrf") or "").lower()
        response = client.post(
            "/login",
            data={
                "email": "admin@northwind.test",
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
            },
        )
        assert response.status_code == 303
        flags = [
            p.strip().lower() for p in (cookie_header(response, "assay_session") or "").split(";")
        ]
        assert "secure" in flags
        assert "httponly" in flags
        assert "strict-transport-security" in response.headers


def test_sign_out_ends_the_server_session_and_deletes_the_cookie(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    assert count(engine, WebSession) == 1
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    cookie = cookie_header(response, "assay_session") or ""
    assert "max-age=0" in cookie.lower()
    assert count(engine, WebSession) == 0
    with unit_of_work(engine) as db:
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.logout")) is not None
    again = client.get("/orgs/northwind")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


def test_stolen_cookie_is_useless_after_sign_out(
    client: TestClient, world: World, engine: Engine
) -> None:
    token = sign_in(client, "admin@northwind.test")
    secret = client.cookies.get("assay_session")
    client.post("/logout", data={"csrf_token": token})
    client.cookies.set("assay_session", secret or "")
    assert client.get("/orgs/northwind").status_code == 303


def test_wrong_password_shows_the_form_again_with_401_and_no_session(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = post_login(client, "admin@northwind.test", "not-the-password-at-all")
    assert response.status_code == 401
    assert cookie_header(response, "assay_session") is None
    assert "wrong email or password" in response.text
    assert 'value="admin@northwind.test"' in response.text
    assert "not-the-password-at-all" not in response.text
    assert count(engine, WebSession) == 0
    assert count(engine, LoginFailure) == 1  # the failure was committed, not rolled back
    with unit_of_work(engine) as db:
        failed = db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
        assert failed is not None
    assert client.get("/orgs/northwind").status_code == 303


def test_unknown_email_is_refused_like_a_wrong_password(client: TestClient, world: World) -> None:
    response = post_login(client, "nobody@nowhere.test", PASSWORD)
    assert response.status_code == 401
    assert "wrong email or password" in response.text
    assert cookie_header(response, "assay_session") is None


def test_throttled_after_too_many_failures_even_with_the_right_password(
    client: TestClient, world: World, engine: Engine
) -> None:
    limit = settings().login_max_failures
    for _ in range(limit):
        assert post_login(client, "admin@northwind.test", "wrong-password-123").status_code == 401
    response = post_login(client, "admin@northwind.test", PASSWORD)
    assert response.status_code == 429
    assert "too many failed sign-ins" in response.text
    assert cookie_header(response, "assay_session") is None
    assert count(engine, WebSession) == 0
    # another account is not locked out by it
    assert post_login(client, "admin@otherco.test", PASSWORD).status_code == 303


def test_root_sends_visitors_to_sign_in_and_members_to_their_first_org(
    client: TestClient, world: World
) -> None:
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    sign_in(client, "executive@client-b.test")
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/orgs/client-b"


def test_pages_redirect_to_sign_in_and_come_back(client: TestClient, world: World) -> None:
    response = client.get("/orgs/client-a/members")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Forgs%2Fclient-a%2Fmembers"
    page = client.get(response.headers["location"])
    assert 'name="next" value="/orgs/client-a/members"' in page.text
    signed = client.post(
        "/login",
        data={
            "email": "admin@client-a.test",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
            "next": "/orgs/client-a/members",
        },
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/orgs/client-a/members"


def test_sign_in_never_redirects_to_another_site(client: TestClient, world: World) -> None:
    for target in ("//evil.test/x", "https://evil.test/", "/\\evil.test", "javascript:alert(1)"):
        page = client.get("/login", params={"next": target})
        assert "evil" not in page.text and "javascript" not in page.text
        response = client.post(
            "/login",
            data={
                "email": "admin@client-a.test",
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
                "next": target,
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/orgs/client-a"
        client.cookies.clear()


def test_healthz_needs_no_sign_in(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
