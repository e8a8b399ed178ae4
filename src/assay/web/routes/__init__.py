"""The web pages, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from assay.web.routes.assessments import router as assessments_router
from assay.web.routes.assets import router as assets_router
from assay.web.routes.audit import router as audit_router
from assay.web.routes.audit_runs import router as audit_runs_router
from assay.web.routes.auth import router as auth_router
from assay.web.routes.catalog import router as catalog_router
from assay.web.routes.home import router as home_router
from assay.web.routes.members import router as members_router
from assay.web.routes.orgs import router as orgs_router
from assay.web.routes.risks import router as risks_router
from assay.web.routes.tokens import router as tokens_router

ROUTERS: list[APIRouter] = [
    home_router,
    auth_router,
    orgs_router,
    members_router,
    audit_router,
    tokens_router,
    catalog_router,
    assessments_router,
    assets_router,
    audit_runs_router,
    risks_router,
]
