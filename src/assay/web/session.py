"""The browser session: its cookie, and the signed-in visitor a page acts for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy.orm import Session

from assay.accounts.models import User
from assay.accounts.service import user_for_web_session
from assay.auth.actor import Actor, Via
from assay.config import settings
from assay.errors import NotFound
from assay.tenancy.access import actor_for_org_id, actor_in
from assay.web import csrf
from assay.web.errors import SignInRequired

SESSION_COOKIE = "assay_session"
_SAFE_NEXT = re.compile(r"^/(?![/\\])[A-Za-z0-9/_.~%?=&+-]{0,500}$")


@dataclass(frozen=True)
class Visitor:
    """A signed-in user and the secret of their session cookie."""

    user: User
    secret: str

    @property
    def csrf_token(self) -> str:
        return csrf.token_for_session(self.secret)

    def actor_in(self, db: Session, slug: str) -> Actor:
        """The actor this user is in organization `slug` (NotFound when out of reach)."""
        return actor_in(db, self.user.id, self.user.email, Via.WEB, slug)

    def actor_owning(self, db: Session, org_id: int | None, missing: str) -> Actor:
        """The actor this user is in the organization owning an object, `org_id`;
        `NotFound(missing)` when there is no object or it is out of reach."""
        if org_id is not None:
            actor = actor_for_org_id(db, self.user.id, self.user.email, Via.WEB, org_id)
            if actor is not None:
                return actor
        raise NotFound(missing)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def current_visitor(db: Session, request: Request) -> Visitor | None:
    secret = request.cookies.get(SESSION_COOKIE)
    user = user_for_web_session(db, secret)
    if user is None or secret is None:
        return None
    return Visitor(user, secret)


def require_visitor(db: Session, request: Request) -> Visitor:
    """The signed-in visitor, or SignInRequired (answered with a redirect to the sign-in page)."""
    visitor = current_visitor(db, request)
    if visitor is None:
        wanted = request.url.path
        if request.url.query:
            wanted += "?" + request.url.query
        raise SignInRequired(wanted if request.method == "GET" else None)
    return visitor


def safe_next(value: str | None) -> str | None:
    """A local path to return to after signing in, or None (never another site)."""
    if value and _SAFE_NEXT.fullmatch(value):
        return value
    return None


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings().session_hours * 3600,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=is_https(request), httponly=True, samesite="lax"
    )


def set_nonce_cookie(response: Response, request: Request, nonce: str) -> None:
    response.set_cookie(
        csrf.NONCE_COOKIE,
        nonce,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


def clear_nonce_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        csrf.NONCE_COOKIE, path="/", secure=is_https(request), httponly=True, samesite="lax"
    )
