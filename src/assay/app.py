"""The ASGI application: the JSON API under /api and the server-rendered web pages, one app."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assay import __version__
from assay.errors import AssayError

API_PREFIX = "/api"


def create_app() -> FastAPI:
    """Build the app; the API and the web pages each install their own routes.

    Errors are answered in the caller's language: RFC 9457 problem documents under /api,
    HTML pages everywhere else. A database constraint that fires anyway (two requests racing
    for the same name) is a 409 there too; its transaction was already rolled back.
    """
    from assay import api, web

    app = FastAPI(
        title="Assay",
        version=__version__,
        description="Independent cybersecurity assessment.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path == API_PREFIX or request.url.path.startswith(API_PREFIX + "/"):
            return await api.handle_error(request, exc)
        return await web.handle_error(request, exc)

    for kind in (AssayError, RequestValidationError, StarletteHTTPException, IntegrityError):
        app.add_exception_handler(kind, handle)
    api.install(app)
    web.install(app)
    return app
