"""The REST API under /api/v1: JSON over HTTP, bearer-token authentication, RFC 9457 errors.

`install` adds the routes and the documentation page to the app; `handle_error` answers every
error under /api with a problem document (the app factory routes errors here).
"""

from __future__ import annotations

from fastapi import FastAPI

from assay.api import docs
from assay.api.openapi import publish_problem_schema
from assay.api.problems import handle_error
from assay.api.routes import build_router

__all__ = ["handle_error", "install"]


def install(app: FastAPI) -> None:
    """Add the /api/v1 routes, the /api/docs page and the Problem schema to `app`."""
    app.include_router(build_router())
    app.include_router(docs.router)
    publish_problem_schema(app)
