"""Security headers on every response of the whole application, the JSON API included.

Installed as plain ASGI middleware so that it also covers static files, the OpenAPI document and
error responses. A header the inner application already set is left alone (a page that needs a
different policy sets its own). An unhandled exception that escapes before a response started is
answered here with a bare 500 that still carries the headers, then re-raised for the server log.
"""

from __future__ import annotations

import json

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("permissions-policy", PERMISSIONS_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)

STATIC_PREFIX = "/static/"
API_PREFIX = "/api"


def headers_for(path: str, https: bool) -> list[tuple[str, str]]:
    """The security headers a response to `path` gets."""
    headers = list(BASE_HEADERS)
    # Pages and API answers may hold a tenant's data: never store them. Static assets are
    # public and revalidated with their ETag.
    cache = "no-cache" if path.startswith(STATIC_PREFIX) else "no-store"
    headers.append(("cache-control", cache))
    if https:
        headers.append(("strict-transport-security", "max-age=31536000; includeSubDomains"))
    return headers


def _is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def _internal_error(path: str) -> tuple[bytes, bytes]:
    """Body and content type of the last-resort 500 answer."""
    if _is_api(path):
        problem = {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "an unexpected error occurred",
        }
        return json.dumps(problem).encode(), b"application/problem+json"
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Server error · Assay</title>"
        '<link rel="stylesheet" href="/static/assay.css"></head>'
        '<body><main class="page narrow"><h1>Server error</h1>'
        "<p>Something went wrong on our side. Nothing you sent was half-saved; "
        'please try again.</p><p><a href="/">Home</a></p></main></body></html>'
    )
    return page.encode(), b"text/html; charset=utf-8"


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = headers_for(path, scope.get("scheme") == "https")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            body, content_type = _internal_error(path)
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", content_type),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})
            raise
