"""Reading HTML forms with limits: body size, number of fields, characters per field.

Forms are url-encoded, except the few that upload a file (multipart, read as a stream with a
limit on the file by `signed_in_upload`). Every limit is checked before any service runs, so an
oversized or malformed form changes nothing. Field values are never echoed in error messages,
only field names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

from fastapi import Request

from assay.config import settings
from assay.errors import InvalidInput
from assay.transfer import Upload, read_upload
from assay.web import csrf
from assay.web.errors import FormTooLarge, UnsupportedForm
from assay.web.session import SESSION_COOKIE

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 32
MAX_FIELD_NAME_CHARS = 64
BODY_BYTES_PER_FIELD_CHAR = 16  # the whole body may hold a few fields at their largest
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Form:
    """The fields of one submitted form (the first value of a repeated field wins)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._fields: dict[str, str] = {}
        for name, value in pairs:
            self._fields.setdefault(name, value)

    def get(self, name: str) -> str:
        """The value as sent, or '' when the field is missing."""
        return self._fields.get(name, "")

    def optional(self, name: str) -> str | None:
        """The value without surrounding blanks, or None when missing or blank."""
        value = self._fields.get(name, "").strip()
        return value or None

    def keep(self, *names: str) -> dict[str, str]:
        """Values to put back into a form shown again (never pass secrets here)."""
        return {name: self.get(name) for name in names}


def max_body_bytes() -> int:
    return settings().max_form_field_chars * BODY_BYTES_PER_FIELD_CHAR


async def read_form(request: Request) -> Form:
    """Read and check a url-encoded form; raise before anything is done with it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise UnsupportedForm(f"forms must be sent as {FORM_CONTENT_TYPE}")
    limit = max_body_bytes()
    too_large = FormTooLarge(f"the form is larger than {limit // 1024} KiB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the form is not valid UTF-8") from None
    if text.count("&") >= MAX_FIELDS:
        raise FormTooLarge(f"the form has more than {MAX_FIELDS} fields")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except ValueError:
        raise InvalidInput("the form is not valid") from None
    max_chars = settings().max_form_field_chars
    for name, value in pairs:
        if len(name) > MAX_FIELD_NAME_CHARS or _CONTROL.search(name):
            raise InvalidInput("the form has a field with an invalid name")
        if len(value) > max_chars:
            raise FormTooLarge(f"the field '{name}' is longer than {max_chars} characters")
        if _CONTROL.search(value):
            raise InvalidInput(f"the field '{name}' contains control characters")
    return Form(pairs)


async def signed_in_form(request: Request) -> Form:
    """A form from a signed-in page: its CSRF token must match the session cookie."""
    form = await read_form(request)
    secret = request.cookies.get(SESSION_COOKIE)
    csrf.check(csrf.token_for_session(secret) if secret else None, form.get(csrf.FIELD))
    return form


async def sign_in_form(request: Request) -> Form:
    """The sign-in form: its CSRF token must match the pre-session nonce cookie."""
    form = await read_form(request)
    nonce = csrf.usable_nonce(request.cookies.get(csrf.NONCE_COOKIE))
    csrf.check(csrf.token_for_nonce(nonce) if nonce else None, form.get(csrf.FIELD))
    return form


async def signed_in_upload(request: Request, *, file_field: str, max_file_bytes: int) -> Upload:
    """A multipart form from a signed-in page with at most one file of `max_file_bytes`: the
    file is refused (413) as soon as it passes the limit, the other fields have the limits of
    url-encoded forms, and the CSRF token must match the session cookie. The caller closes the
    upload (a context manager); nothing is stored before that check passed."""
    upload = await read_upload(
        request,
        file_field=file_field,
        max_file_bytes=max_file_bytes,
        max_field_chars=settings().max_form_field_chars,
    )
    try:
        secret = request.cookies.get(SESSION_COOKIE)
        csrf.check(csrf.token_for_session(secret) if secret else None, upload.get(csrf.FIELD))
    except BaseException:
        upload.close()
        raise
    return upload
