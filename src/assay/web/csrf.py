"""CSRF tokens: an HMAC of the session secret (signed in) or of a pre-session nonce (sign-in).

The token is never stored: it is recomputed from the cookie the browser sends, so a page from
another site, which can make the browser send the cookie but cannot read it, cannot forge it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from assay.config import settings
from assay.web.errors import CsrfRejected

FIELD = "csrf_token"
NONCE_COOKIE = "assay_csrf"
MAX_NONCE_CHARS = 100

REJECTED = (
    "This form has expired or did not come from this site. Go back, reload the page and try again."
)


def _sign(value: str) -> str:
    key = settings().secret_key.encode("utf-8")
    return hmac.new(key, ("csrf:" + value).encode("utf-8"), hashlib.sha256).hexdigest()


def token_for_session(session_secret: str) -> str:
    return _sign(session_secret)


def token_for_nonce(nonce: str) -> str:
    return _sign(nonce)


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def usable_nonce(value: str | None) -> str | None:
    """The nonce from the cookie when it looks like one we issued, else None."""
    if value and len(value) <= MAX_NONCE_CHARS and value.isascii():
        return value
    return None


def check(expected: str | None, given: str | None) -> None:
    """Raise CsrfRejected unless `given` equals `expected` (compared in constant time)."""
    if not expected or not given:
        raise CsrfRejected(REJECTED)
    if not hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8")):
        raise CsrfRejected(REJECTED)
