"""Security headers on every response, and pages that need no inline script or style."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from assay.web.security import CONTENT_SECURITY_POLICY
from tests.factories import World
from tests.web.support import sign_in

EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (name, headers.get(name))
    assert "camera=()" in headers.get("permissions-policy", "")


def test_the_policy_is_the_one_asked_for() -> None:
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/healthz",
        "/static/assay.css",
        "/static/favicon.svg",
        "/no-such-page",
        "/api/openapi.json",
        "/api/no-such-endpoint",
        "/static/missing.css",
    ],
)
def test_headers_on_anonymous_responses(client: TestClient, path: str) -> None:
    assert_security_headers(client.get(path))


def test_static_files_are_served(client: TestClient) -> None:
    css = client.get("/static/assay.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "no-cache"
    assert client.get("/static/../web/__init__.py").status_code == 404


def test_unknown_pages_are_html_404s(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not Found" in response.text
    assert client.delete("/login").status_code == 405


SIGNED_IN_PAGES = [
    "/orgs/northwind",
    "/orgs/client-a",
    "/orgs/client-a/members",
    "/orgs/client-a/audit",
    "/account/tokens",
    "/orgs/no-such-org",
]
_INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_signed_in_pages_are_not_cached_and_have_no_inline_code(
    client: TestClient, world: World
) -> None:
    anonymous = client.get("/login")
    pages = {"/login": anonymous}
    sign_in(client, "admin@northwind.test")
    pages.update({path: client.get(path) for path in SIGNED_IN_PAGES})
    for path, response in pages.items():
        assert_security_headers(response)
        assert response.headers["cache-control"] == "no-store", path
        html = response.text
        assert "<script" not in html.lower(), path
        assert " style=" not in html.lower() and "<style" not in html.lower(), path
        assert not _INLINE_HANDLER.search(html), path
        assert "javascript:" not in html.lower(), path
    for path in SIGNED_IN_PAGES:
        assert 'action="/switch"' in pages[path].text, f"{path} has no organization switcher"
    assert pages["/orgs/no-such-org"].status_code == 404


def test_an_unhandled_error_still_gets_the_headers() -> None:
    from fastapi import FastAPI

    from assay import web

    app = FastAPI()
    web.install(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/api/boom")
    def api_boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom")
        assert page.status_code == 500
        assert_security_headers(page)
        assert page.headers["content-type"].startswith("text/html")
        assert "boom" not in page.text
        api = client.get("/api/boom")
        assert api.status_code == 500
        assert_security_headers(api)
        assert api.headers["content-type"] == "application/problem+json"
