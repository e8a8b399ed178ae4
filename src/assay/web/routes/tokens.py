"""Personal API tokens: each bound to the visitor and one organization they are a member of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from assay.accounts.models import ApiToken
from assay.accounts.service import create_token, list_tokens, revoke_token
from assay.db.base import utcnow
from assay.db.engine import unit_of_work
from assay.errors import AssayError, InvalidInput
from assay.tenancy.access import memberships_of, org_by_slug
from assay.web.forms import Form, signed_in_form
from assay.web.layout import OrgChoice, chrome_for
from assay.web.params import RowId
from assay.web.session import Visitor, require_visitor
from assay.web.templating import render

router = APIRouter(include_in_schema=False)

TOKENS_PATH = "/account/tokens"
MAX_TOKENS_SHOWN = 200
NOTICES = {"revoked": "The token has been revoked; it no longer works."}


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    org: OrgChoice
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    state: str


@dataclass(frozen=True)
class NewToken:
    """A token just created; its secret is shown on this one response only."""

    name: str
    org_name: str
    secret: str


def _state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def _own_tokens(db: Session, visitor: Visitor) -> tuple[list[OrgChoice], list[TokenRow]]:
    """The organizations the visitor is a member of, and their tokens in each."""
    now = utcnow()
    orgs: list[OrgChoice] = []
    rows: list[TokenRow] = []
    for membership in memberships_of(db, visitor.user.id):
        org = membership.organization
        choice = OrgChoice(org.slug, org.name, org.kind)
        orgs.append(choice)
        actor = visitor.actor_in(db, org.slug)
        tokens, _total = list_tokens(
            db, actor, user_email=visitor.user.email, limit=MAX_TOKENS_SHOWN
        )
        rows.extend(
            TokenRow(
                t.id,
                t.name,
                t.prefix,
                choice,
                t.created_at,
                t.expires_at,
                t.last_used_at,
                _state(t, now),
            )
            for t in tokens
            if t.organization_id == org.id
        )
    rows.sort(key=lambda row: row.id, reverse=True)
    return orgs, rows


def tokens_page(
    request: Request,
    *,
    status: int = 200,
    error: AssayError | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
    new_token: NewToken | None = None,
) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        orgs, tokens = _own_tokens(db, visitor)
        context = {
            "chrome": chrome_for(db, visitor),
            "member_orgs": orgs,
            "tokens": tokens,
            "error": error,
            "notice": notice,
            "values": values or {},
            "new_token": new_token,
        }
    return render(request, "tokens.html", context, status=status)


def _expiry_days(form: Form) -> int | None:
    raw = form.optional("expires_in_days")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidInput("expiry must be a whole number of days")
    return int(raw)


@router.get(TOKENS_PATH)
def show_tokens(request: Request, done: str | None = None) -> Response:
    return tokens_page(request, notice=NOTICES.get(done or ""))


@router.post(TOKENS_PATH)
def issue_token(request: Request, form: Annotated[Form, Depends(signed_in_form)]) -> Response:
    try:
        with unit_of_work() as db:
            visitor = require_visitor(db, request)
            slug = form.get("org").strip()
            if not slug:
                raise InvalidInput("choose the organization the token acts in")
            issued = create_token(
                db,
                visitor.actor_in(db, slug),
                user_email=visitor.user.email,
                org_slug=slug,
                name=form.get("name"),
                expires_in_days=_expiry_days(form),
            )
            org_name = org_by_slug(db, slug).name
            created = NewToken(issued.token.name, org_name, issued.secret)
    except AssayError as exc:
        values = form.keep("org", "name", "expires_in_days")
        return tokens_page(request, status=exc.status, error=exc, values=values)
    return tokens_page(request, notice="Token created.", new_token=created)


@router.post(TOKENS_PATH + "/{token_id}/revoke")
def withdraw_token(
    request: Request, token_id: RowId, form: Annotated[Form, Depends(signed_in_form)]
) -> Response:
    try:
        with unit_of_work() as db:
            visitor = require_visitor(db, request)
            revoke_token(db, visitor.actor_in(db, form.get("org").strip()), token_id)
    except AssayError as exc:
        return tokens_page(request, status=exc.status, error=exc)
    return RedirectResponse(TOKENS_PATH + "?done=revoked", status_code=303)
