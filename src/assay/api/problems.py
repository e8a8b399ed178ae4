"""RFC 9457 problem documents: every error under /api is answered as application/problem+json."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import fastapi.routing
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assay.errors import AssayError, AuthenticationFailed

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:assay:problem:"


class ValidationIssue(BaseModel):
    """One rejected field: where it is (e.g. ["body", "email"]) and what is wrong with it."""

    location: list[str | int]
    message: str
    type: str


class Problem(BaseModel):
    """An error response (RFC 9457). `errors` is present for request validation failures."""

    type: str = Field(examples=["urn:assay:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["organization 'client-x' not found"])
    instance: str = Field(examples=["/api/v1/orgs/client-x"])
    errors: list[ValidationIssue] | None = None


def _kebab(text: str) -> str:
    """'PermissionDenied' or 'Method Not Allowed' -> 'permission-denied' / 'method-not-allowed'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return "-".join(spaced.lower().split())


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str,
    kind: str,
    errors: list[ValidationIssue] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Render one problem document with the problem+json media type."""
    problem = Problem(
        type=PROBLEM_TYPE_PREFIX + kind,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _validation_issues(exc: RequestValidationError) -> list[ValidationIssue]:
    """Field locations and messages only: the rejected input is never echoed (it may be secret)."""
    issues = []
    for error in exc.errors():
        location = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        issues.append(
            ValidationIssue(
                location=location,
                message=str(error.get("msg", "invalid value")),
                type=str(error.get("type", "value_error")),
            )
        )
    return issues


def _summary(issues: list[ValidationIssue]) -> str:
    fields = [".".join(str(part) for part in issue.location) or "request" for issue in issues]
    shown = ", ".join(dict.fromkeys(fields))
    return f"the request is invalid: check {shown}" if shown else "the request is invalid"


def _bearer_challenge(request: Request) -> str:
    """RFC 6750 challenge: name the error only when a bearer token was actually presented."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return 'Bearer realm="assay", error="invalid_token"'
    return 'Bearer realm="assay"'


def _allowed_methods(request: Request) -> str:
    """Every method the app serves at this path (Starlette's 405 names only the first route's).

    FastAPI >= 0.140 keeps included routers nested in `app.routes`; `iter_route_contexts`
    walks them. Older versions list every route directly.
    """
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Iterable[Any] = request.app.routes
    if iter_contexts is not None:
        routes = iter_contexts(routes)
    methods: set[str] = set()
    for route in routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_HTTP_DETAILS = {
    404: "there is no API endpoint at this path",
    405: "this method is not allowed on this endpoint",
}


_ROW = re.compile(r"(?:row|line) (\d+):")


def _listed_problems(exc: AssayError) -> list[ValidationIssue] | None:
    """Every problem of an error that lists them (a refused spreadsheet or CSV import names
    each bad row), located by its row or line where the problem names one."""
    problems = getattr(exc, "problems", None)
    if not isinstance(problems, list) or not problems:
        return None
    issues = []
    for problem in problems:
        text = str(problem)
        row = _ROW.match(text)
        location: list[str | int] = ["file", int(row.group(1))] if row else ["file"]
        issues.append(ValidationIssue(location=location, message=text, type="invalid_row"))
    return issues


CONFLICT_DETAIL = (
    "the change conflicts with data saved meanwhile (a name or identifier already taken, or a "
    "related record changed); nothing was saved: reload and try again"
)

_log = logging.getLogger("assay.api")


def log_integrity_error(request: Request, exc: IntegrityError) -> None:
    """Name the constraint for the server log: the database's first line names it and never the
    values (PostgreSQL puts them on the DETAIL line)."""
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
    _log.warning("409 for %s %s: %s", request.method, request.url.path, reason)


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    """Map a service error, a validation error, a constraint conflict or an HTTP error to a
    problem document."""
    if isinstance(exc, AssayError):
        headers = None
        if isinstance(exc, AuthenticationFailed):
            headers = {"WWW-Authenticate": _bearer_challenge(request)}
        return problem_response(
            request,
            status=exc.status,
            title=exc.title,
            detail=exc.message,
            kind=_kebab(type(exc).__name__),
            errors=_listed_problems(exc),
            headers=headers,
        )
    if isinstance(exc, RequestValidationError):
        issues = _validation_issues(exc)
        return problem_response(
            request,
            status=422,
            title="Invalid request",
            detail=_summary(issues),
            kind="validation-error",
            errors=issues,
        )
    if isinstance(exc, IntegrityError):
        # A constraint the service's own checks did not foresee, usually a race between two
        # requests (both saw a name free, one inserted it first). The transaction was rolled
        # back before this handler ran.
        log_integrity_error(request, exc)
        return problem_response(
            request,
            status=409,
            title="Conflict",
            detail=CONFLICT_DETAIL,
            kind="conflict",
        )
    if isinstance(exc, StarletteHTTPException):
        phrase = _phrase(exc.status_code)
        detail = str(exc.detail) if exc.detail and exc.detail != phrase else None
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return problem_response(
            request,
            status=exc.status_code,
            title=phrase.capitalize(),
            detail=detail or _HTTP_DETAILS.get(exc.status_code, phrase),
            kind=_kebab(phrase),
            headers=headers or None,
        )
    raise exc  # not ours to translate: let the server answer 500
