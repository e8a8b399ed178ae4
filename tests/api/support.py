"""Helpers for the API tests: bearer tokens, database snapshots and problem-document checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from assay.accounts.models import ApiToken, User
from assay.accounts.service import create_token
from assay.assess.models import Answer, AnswerEvidence, Assessment, Evidence, Verification
from assay.assets.models import Asset, AssetIdentifier
from assay.auditlog.models import AuditEvent
from assay.db.engine import unit_of_work
from assay.tenancy.models import AuditorGrant, Membership, Organization, Role
from tests.factories import SYSTEM, World

PROBLEM_TYPE = "application/problem+json"

AuthFor = Callable[[str, Role], dict[str, str]]
"""`auth(slug, role)` -> Authorization headers for the world's user of `role` in `slug`."""


def issue_token(session: Session, world: World, slug: str, role: Role, name: str = "test") -> str:
    """Create (and commit) an API token for the world's user of `role` in `slug`."""
    issued = create_token(
        session, SYSTEM, user_email=world.user(slug, role).email, org_slug=slug, name=name
    )
    session.commit()
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@dataclass(frozen=True)
class Snapshot:
    """Everything an API call could change that matters, read in a transaction of its own."""

    organizations: frozenset[tuple[int, str]]
    users: frozenset[tuple[int, str]]
    memberships: frozenset[tuple[int, int, int, str]]
    grants: frozenset[tuple[int, int, int, bool]]
    tokens: frozenset[tuple[int, int, int, bool]]
    audit_events: int
    assessments: frozenset[tuple[Any, ...]]
    answers: frozenset[tuple[Any, ...]]
    evidence: frozenset[tuple[Any, ...]]
    verifications: frozenset[tuple[Any, ...]]
    assets: frozenset[tuple[Any, ...]]
    asset_identifiers: frozenset[tuple[Any, ...]]


def snapshot(engine: Engine) -> Snapshot:
    """Read the state in a short transaction (an open one would block the app on SQLite)."""
    with unit_of_work(engine) as db:
        return Snapshot(
            organizations=frozenset(
                (r.id, r.slug) for r in db.execute(select(Organization.id, Organization.slug))
            ),
            users=frozenset((r.id, r.email) for r in db.execute(select(User.id, User.email))),
            memberships=frozenset(
                (m.id, m.organization_id, m.user_id, str(m.role))
                for m in db.scalars(select(Membership))
            ),
            grants=frozenset(
                (g.id, g.organization_id, g.auditor_org_id, g.revoked_at is None)
                for g in db.scalars(select(AuditorGrant))
            ),
            tokens=frozenset(
                (t.id, t.organization_id, t.user_id, t.revoked_at is None)
                for t in db.scalars(select(ApiToken))
            ),
            audit_events=db.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            assessments=frozenset(
                (a.id, a.organization_id, a.name, str(a.state), a.updated_at)
                for a in db.scalars(select(Assessment))
            ),
            answers=frozenset(
                (a.id, str(a.status), a.maturity, a.notes, str(a.state), a.updated_at)
                for a in db.scalars(select(Answer))
            ),
            evidence=frozenset(
                (e.id, e.title, e.sha256, link.answer_id if link else None)
                for e, link in db.execute(
                    select(Evidence, AnswerEvidence).outerjoin(
                        AnswerEvidence, AnswerEvidence.evidence_id == Evidence.id
                    )
                ).all()
            ),
            verifications=frozenset(
                (v.id, str(v.verdict), v.invalidated_at) for v in db.scalars(select(Verification))
            ),
            assets=frozenset(
                (a.id, a.organization_id, a.name, str(a.criticality), a.owner, a.updated_at)
                for a in db.scalars(select(Asset))
            ),
            asset_identifiers=frozenset(
                (i.id, i.asset_id, str(i.kind), i.value)
                for i in db.scalars(select(AssetIdentifier))
            ),
        )


def audit_actions(engine: Engine) -> list[str]:
    """Audit event actions, oldest first."""
    with unit_of_work(engine) as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check an RFC 9457 problem document with `status` and return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_TYPE), response.headers
    problem: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= problem.keys(), problem
    assert problem["status"] == status
    assert problem["instance"] == response.request.url.path
    assert problem["type"].startswith("urn:assay:problem:")
    assert problem["title"] and problem["detail"]
    return problem


@dataclass(frozen=True)
class Endpoint:
    """One method of one route, with the full path it is served at."""

    method: str
    path: str
    route: APIRoute


def route_table(app: FastAPI) -> list[Endpoint]:
    """Every APIRoute of the app with its effective path, however deeply routers are nested.

    FastAPI >= 0.140 keeps included routers as single entries of `app.routes`, so a plain loop
    over `app.routes` would see none of the API's routes; `iter_route_contexts` walks them.
    """
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:  # older FastAPI flattened included routes into app.routes
        pairs = [(r.path, r) for r in app.routes if isinstance(r, APIRoute)]
    else:
        pairs = [
            (str(ctx.path), ctx.original_route)
            for ctx in iter_contexts(app.routes)
            if isinstance(ctx.original_route, APIRoute)
        ]
    return [
        Endpoint(method, path, route)
        for path, route in pairs
        for method in sorted(route.methods or ())
    ]
