"""Errors only the web interface raises, and how any error becomes an HTML page."""

from __future__ import annotations

from http import HTTPStatus

from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assay.errors import AssayError, PermissionDenied


class FormTooLarge(AssayError):
    status = 413
    title = "Content too large"


class UnsupportedForm(AssayError):
    status = 415
    title = "Unsupported form encoding"


class CsrfRejected(PermissionDenied):
    title = "Form rejected"


class SignInRequired(Exception):
    """Raised when a page needs a signed-in user and the request has no valid session."""

    def __init__(self, next_path: str | None = None) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


MAX_LISTED_PROBLEMS = 5
CONFLICT_MESSAGE = (
    "This change conflicts with something saved at the same time (a name or identifier already "
    "taken, or a related record changed). Nothing was saved: go back, reload and try again."
)


def describe(exc: Exception) -> tuple[int, str, str, dict[str, str] | None]:
    """Status, title, one-line message and extra headers for an error shown as a page."""
    if isinstance(exc, AssayError):
        return exc.status, exc.title, exc.message, None
    if isinstance(exc, RequestValidationError):
        return 422, "Invalid input", _validation_message(exc), None
    if isinstance(exc, IntegrityError):  # a race the service's checks could not see
        return 409, "Conflict", CONFLICT_MESSAGE, None
    if isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        title = _phrase(status)
        if status == 404:
            message = "There is no page at this address."
        elif status == 405:
            message = "This address does not accept that kind of request."
        elif isinstance(exc.detail, str) and exc.detail and exc.detail != title:
            message = exc.detail
        else:
            message = title
        return status, title, message, dict(exc.headers) if exc.headers else None
    return 500, "Server error", "Something went wrong on our side; please try again.", None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _validation_message(exc: RequestValidationError) -> str:
    """Name each offending parameter without echoing what was sent."""
    problems = []
    for error in list(exc.errors())[:MAX_LISTED_PROBLEMS]:
        location = [str(part) for part in error.get("loc", ())]
        where = location[0] if location else "request"
        name = ".".join(location[1:]) or where
        problems.append(f"{where} parameter '{name[:40]}': {error.get('msg', 'invalid')}")
    return "; ".join(problems) or "the request is not valid"
