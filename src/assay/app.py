"""The ASGI application: the JSON API under /api and the server-rendered web pages, one app."""

from __future__ import annotations

from fastapi import FastAPI

from assay import __version__


def create_app() -> FastAPI:
    """Build the app; the API and the web pages each install their own routes and handlers."""
    from assay import api, web

    app = FastAPI(
        title="Assay",
        version=__version__,
        description="Independent cybersecurity assessment: organizations, members, tokens, audit trail.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.install(app)
    web.install(app)
    return app
