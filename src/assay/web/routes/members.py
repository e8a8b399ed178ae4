"""Member administration: who belongs to an organization with which role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from assay.db.engine import unit_of_work
from assay.errors import AssayError
from assay.tenancy import service
from assay.tenancy.models import Role
from assay.web.forms import Form, signed_in_form
from assay.web.layout import chrome_for, org_tabs
from assay.web.paging import PAGE_SIZE, Pager
from assay.web.params import PageNumber, RowId
from assay.web.permissions import permitted
from assay.web.routes.home import org_path
from assay.web.session import require_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {"removed": "The member has been removed."}


@dataclass(frozen=True)
class MemberRow:
    membership_id: int
    email: str
    name: str
    role: Role
    removable: bool
    is_you: bool


@dataclass(frozen=True)
class NewAccount:
    """A user created by adding them; the password is shown on this one response only."""

    email: str
    password: str


def members_path(slug: str) -> str:
    return org_path(slug) + "/members"


def members_page(
    request: Request,
    slug: str,
    *,
    page: int = 1,
    status: int = 200,
    error: AssayError | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
    new_account: NewAccount | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        actor = visitor.actor_in(db, slug)
        org = service.get_org(db, actor, slug)
        rows, total = service.list_members(
            db, actor, org.slug, limit=PAGE_SIZE, offset=Pager.offset_of(page)
        )
        members = [
            MemberRow(
                membership.id,
                user.email,
                user.name,
                membership.role,
                permitted(db, actor, "member.manage", org, {"subject": [user.id]}),
                user.id == visitor.user.id,
            )
            for membership, user in rows
        ]
        context = {
            "chrome": chrome_for(db, visitor, org.slug),
            "tabs": org_tabs(db, actor, org, "members"),
            "org": org,
            "members": members,
            "pager": Pager(page, PAGE_SIZE, total),
            "can_manage": permitted(db, actor, "member.manage", org),
            "can_create_users": permitted(db, actor, "user.create", org),
            "error": error,
            "notice": notice,
            "values": values or {},
            "new_account": new_account,
        }
    return render(request, "members.html", context, status=status)


@router.get("/orgs/{slug}/members")
def show_members(
    request: Request, slug: str, page: PageNumber = 1, done: str | None = None
) -> Response:
    return members_page(request, slug, page=page, notice=NOTICES.get(done or ""))


@router.post("/orgs/{slug}/members")
def add_member(
    request: Request, slug: str, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            actor = require_visitor(db, request).actor_in(db, slug)
            added = service.add_member(
                db,
                actor,
                slug,
                form.get("email"),
                form.get("role"),
                new_user_name=form.optional("name"),
            )
            email, role = added.user.email, added.membership.role
            password = added.new_password
    except AssayError as exc:
        values = form.keep("email", "name", "role")
        return members_page(request, slug, status=exc.status, error=exc, values=values)
    notice = f"{email} is now {role_phrase(role)} of this organization."
    account = NewAccount(email, password) if password is not None else None
    return members_page(request, slug, notice=notice, new_account=account)


def role_phrase(role: Role) -> str:
    return {
        Role.ADMIN: "an administrator",
        Role.IT_OPERATOR: "an IT operator",
        Role.AUDITOR: "an auditor",
        Role.EXECUTIVE: "an executive",
    }[role]


@router.post("/orgs/{slug}/members/{membership_id}/remove", dependencies=[Depends(signed_in_form)])
def remove_member(request: Request, slug: str, membership_id: RowId) -> Response:
    try:
        with unit_of_work() as db:
            actor = require_visitor(db, request).actor_in(db, slug)
            service.remove_member(db, actor, slug, membership_id)
    except AssayError as exc:
        return members_page(request, slug, status=exc.status, error=exc)
    return RedirectResponse(members_path(slug) + "?done=removed", status_code=303)
