"""OpenAPI extras: error responses documented as RFC 9457 problem documents."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from assay.api.problems import PROBLEM_MEDIA_TYPE, Problem


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem documents for the given statuses."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def publish_problem_schema(app: FastAPI) -> None:
    """Add the Problem schema to the app's OpenAPI components (routes reference it by $ref)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(problem.pop("$defs", {}))
            components["Problem"] = problem
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
