"""An organization's overview: what it is, its clients (MSP) or its auditor grants (client)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from assay.db.engine import unit_of_work
from assay.errors import AssayError
from assay.tenancy import service
from assay.tenancy.models import AuditorGrant, Organization, OrgKind
from assay.web.forms import Form, signed_in_form
from assay.web.layout import chrome_for, org_tabs
from assay.web.params import RowId
from assay.web.permissions import permitted
from assay.web.routes.home import org_path
from assay.web.session import require_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "created": "The client organization has been created.",
    "granted": "The auditor firm now has access to this organization.",
    "revoked": "The auditor firm's access has been revoked.",
}


@dataclass(frozen=True)
class OrgLink:
    """Another organization named on a page; linked only when the visitor can reach it."""

    slug: str
    name: str
    reachable: bool


@dataclass(frozen=True)
class GrantRow:
    id: int
    client: OrgLink
    auditor: OrgLink
    granted_at: datetime


def _link(org: Organization, reachable: set[str]) -> OrgLink:
    return OrgLink(org.slug, org.name, org.slug in reachable)


def _grant_row(grant: AuditorGrant, reachable: set[str]) -> GrantRow:
    return GrantRow(
        grant.id,
        _link(grant.organization, reachable),
        _link(grant.auditor_org, reachable),
        grant.granted_at,
    )


def org_page(
    request: Request,
    slug: str,
    *,
    status: int = 200,
    error: AssayError | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = visitor.actor_in(db, slug)
        org = service.get_org(db, actor, slug)
        chrome = chrome_for(db, visitor, org.slug)
        reachable = {choice.slug for choice in chrome.orgs}
        parent = _link(org.parent, reachable) if org.parent is not None else None
        clients: list[Organization] = []
        if org.kind is OrgKind.MSP:
            clients = service.list_clients(db, actor, org.slug)
        grants: list[GrantRow] | None = None
        if org.kind is not OrgKind.MSP and permitted(db, actor, "grant.view", org):
            grants = [_grant_row(g, reachable) for g in service.list_grants(db, actor, org.slug)]
        context = {
            "chrome": chrome,
            "tabs": org_tabs(db, actor, org, "overview"),
            "org": org,
            "parent": parent,
            "clients": [_link(client, reachable) for client in clients],
            "grants": grants,
            "can_create_client": org.kind is OrgKind.MSP
            and permitted(db, actor, "org.create_client", org),
            "can_manage_grants": org.kind is OrgKind.CLIENT
            and permitted(db, actor, "grant.manage", org),
            "error": error,
            "notice": notice,
            "values": values or {},
        }
    return render(request, "org.html", context, status=status)


@router.get("/orgs/{slug}")
def show_org(request: Request, slug: str, done: str | None = None) -> Response:
    return org_page(request, slug, notice=NOTICES.get(done or ""))


@router.post("/orgs/{slug}/clients")
def create_client(
    request: Request, slug: str, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = require_visitor(db, request).actor_in(db, slug)
            client = service.create_org(
                db,
                actor,
                slug=form.get("slug"),
                name=form.get("name"),
                kind=OrgKind.CLIENT.value,
                parent_slug=slug,
            )
            target = org_path(client.slug) + "?done=created"
    except AssayError as exc:
        values = form.keep("slug", "name")
        return org_page(request, slug, status=exc.status, error=exc, values=values)
    return RedirectResponse(target, status_code=303)


@router.post("/orgs/{slug}/grants")
def grant_auditor(
    request: Request, slug: str, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = require_visitor(db, request).actor_in(db, slug)
            service.grant_auditor(db, actor, slug, form.get("auditor").strip())
    except AssayError as exc:
        values = form.keep("auditor")
        return org_page(request, slug, status=exc.status, error=exc, values=values)
    return RedirectResponse(org_path(slug) + "?done=granted", status_code=303)


@router.post("/orgs/{slug}/grants/{grant_id}/revoke", dependencies=[Depends(signed_in_form)])
def revoke_grant(request: Request, slug: str, grant_id: RowId) -> Response:
    try:
        with unit_of_work() as db:
            actor = require_visitor(db, request).actor_in(db, slug)
            service.revoke_grant(db, actor, slug, grant_id)
    except AssayError as exc:
        return org_page(request, slug, status=exc.status, error=exc)
    return RedirectResponse(org_path(slug) + "?done=revoked", status_code=303)
