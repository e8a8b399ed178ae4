"""Signing in and out.

A failed sign-in is counted and audited by `accounts.service.authenticate`, which then raises:
the transaction is committed anyway so that throttling sees the failure.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from assay.accounts.service import authenticate, end_web_session, start_web_session
from assay.auth.actor import Via
from assay.db.engine import unit_of_work
from assay.errors import AssayError, AuthenticationFailed, Throttled
from assay.tenancy.access import reachable_orgs
from assay.web import csrf
from assay.web.forms import Form, sign_in_form, signed_in_form
from assay.web.routes.home import org_path
from assay.web.session import (
    SESSION_COOKIE,
    clear_nonce_cookie,
    clear_session_cookie,
    current_visitor,
    safe_next,
    set_nonce_cookie,
    set_session_cookie,
)
from assay.web.templating import render

router = APIRouter(include_in_schema=False)


def _login_page(
    request: Request,
    *,
    email: str = "",
    next_path: str | None = None,
    error: AssayError | None = None,
) -> Response:
    """The sign-in form with a CSRF token bound to a nonce cookie (reused while it lasts)."""
    nonce = csrf.usable_nonce(request.cookies.get(csrf.NONCE_COOKIE)) or csrf.new_nonce()
    context = {
        "email": email,
        "next_path": next_path or "",
        "csrf_token": csrf.token_for_nonce(nonce),
        "error": error,
    }
    response = render(request, "login.html", context, status=error.status if error else 200)
    set_nonce_cookie(response, request, nonce)
    return response


@router.api_route("/login", methods=["GET", "HEAD"])
def login_form(
    request: Request, next_path: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    with unit_of_work() as db:
        signed_in = current_visitor(db, request) is not None
    if signed_in:
        return RedirectResponse(safe_next(next_path) or "/", status_code=303)
    return _login_page(request, next_path=safe_next(next_path))


@router.post("/login")
def login(request: Request, form: Annotated[Form, Depends(sign_in_form)]) -> Response:
    email = form.get("email").strip()
    next_path = safe_next(form.optional("next"))
    client = request.client.host if request.client else "unknown"
    failure: AuthenticationFailed | Throttled | None = None
    try:
        with unit_of_work() as db:
            try:
                user = authenticate(db, email, form.get("password"), client=client, via=Via.WEB)
            except (AuthenticationFailed, Throttled) as exc:
                failure = exc  # leaving the block normally commits the counted, audited failure
            else:
                secret = start_web_session(db, user)
                reachable = reachable_orgs(db, user.id, user.email, Via.WEB, limit=1)
                first = org_path(reachable[0][0].slug) if reachable else "/"
    except AssayError as exc:  # throttled, or input the service refused: nothing was written
        return _login_page(request, email=email, next_path=next_path, error=exc)
    if failure is not None:
        return _login_page(request, email=email, next_path=next_path, error=failure)
    response = RedirectResponse(next_path or first, status_code=303)
    set_session_cookie(response, request, secret)
    clear_nonce_cookie(response, request)
    return response


@router.post("/logout", dependencies=[Depends(signed_in_form)])
def logout(request: Request) -> Response:
    with unit_of_work() as db:
        end_web_session(db, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response
