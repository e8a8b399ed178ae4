"""The server-rendered web interface: Jinja2 pages on the same app as the JSON API.

`install(app)` adds the pages, the static files and the security headers (for the whole app);
`handle_error(request, exc)` answers an error outside /api with an HTML page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from assay.db.engine import unit_of_work
from assay.web.errors import SignInRequired, describe
from assay.web.layout import Chrome, chrome_for
from assay.web.routes import ROUTERS
from assay.web.security import SecurityHeadersMiddleware
from assay.web.session import SESSION_COOKIE, clear_session_cookie, current_visitor, safe_next
from assay.web.templating import render

__all__ = ["handle_error", "install"]


def install(app: FastAPI) -> None:
    """Add the web pages, /static, /healthz and the security-header middleware to `app`."""
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("assay.web", "static")]), name="static")
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_middleware(SecurityHeadersMiddleware)


async def handle_error(request: Request, exc: Exception) -> Response:
    """An HTML error page with the error's status; the header still works when signed in."""
    status, title, message, headers = describe(exc)
    chrome = await run_in_threadpool(_chrome_if_signed_in, request)
    context = {"chrome": chrome, "status": status, "title": title, "message": message}
    return render(request, "error.html", context, status=status, headers=headers)


def _chrome_if_signed_in(request: Request) -> Chrome | None:
    try:
        with unit_of_work() as db:
            visitor = current_visitor(db, request)
            return chrome_for(db, visitor) if visitor is not None else None
    except SQLAlchemyError:  # the error page must render even when the database does not
        return None


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    target = "/login"
    wanted = safe_next(exc.next_path) if isinstance(exc, SignInRequired) else None
    if wanted and wanted != "/":
        target += "?" + urlencode({"next": wanted})
    response = RedirectResponse(target, status_code=303)
    if SESSION_COOKIE in request.cookies:  # expired or ended elsewhere: drop the stale cookie
        clear_session_cookie(response, request)
    return response
