"""Helpers for driving the web pages through Starlette's test client."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from assay.db.registry import Base
from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token of the signed-in session."""
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 303, response.text
    return session_csrf(client)


def session_csrf(client: TestClient) -> str:
    """The CSRF token pages give the current session (read from the tokens page)."""
    page = client.get("/account/tokens")
    assert page.status_code == 200, page.text
    return csrf_from(page.text)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a refused request changed nothing."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in conn.execute(query)]
        conn.rollback()
    return rows


def set_cookie_headers(response: httpx.Response) -> list[str]:
    return [value for name, value in response.headers.multi_items() if name == "set-cookie"]


def cookie_header(response: httpx.Response, name: str) -> str | None:
    for value in set_cookie_headers(response):
        if value.split("=", 1)[0].strip() == name:
            return value
    return None


def web_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every page route of the app: everything outside /api and /static.

    Read from the app's own route table, so routes added later are covered automatically.
    """
    from fastapi.routing import APIRoute

    try:  # FastAPI keeps included routers as branches; this walks into them
        from fastapi.routing import iter_route_contexts

        entries = [(c.original_route, c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI copies included routes into the app's list
        entries = [(r, getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes]
    found: set[tuple[str, str]] = set()
    for route, path, methods in entries:
        if not isinstance(route, APIRoute) or path is None:
            continue
        if path == "/api" or path.startswith(("/api/", "/static/")):
            continue
        for method in methods or ():
            if method != "HEAD":
                found.add((method, path))
    assert found, "no web routes found in the app's route table"
    return sorted(found)


_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def path_params(path: str) -> list[str]:
    return _PARAM.findall(path)


def fill(path: str, values: dict[str, object]) -> str:
    """Put values into a route's path; an unknown parameter fails the test loudly."""
    missing = [name for name in path_params(path) if name not in values]
    if missing:
        import pytest

        pytest.fail(
            f"route {path} has path parameter(s) {missing} this test does not know: "
            "add a value for them so the new route is covered"
        )
    return _PARAM.sub(lambda m: str(values[m.group(1)]), path)
