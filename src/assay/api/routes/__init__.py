"""The /api/v1 routes, one module per resource; every route needs a bearer token."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute

from assay.api.openapi import problem_responses
from assay.api.routes import (
    assessments,
    assets,
    audit,
    audit_runs,
    catalog,
    grants,
    me,
    members,
    orgs,
    risks,
    tokens,
)

V1_PREFIX = "/api/v1"


def _operation_id(route: APIRoute) -> str:
    """Operation ids are the route function names (list_orgs, create_token, ...)."""
    return route.name


def build_router() -> APIRouter:
    router = APIRouter(
        prefix=V1_PREFIX,
        responses=problem_responses(401, 422),
        generate_unique_id_function=_operation_id,
    )
    modules = (me, orgs, members, grants, tokens, audit, catalog, assessments, assets, audit_runs)
    for module in (*modules, risks):
        router.include_router(module.router)
    return router
