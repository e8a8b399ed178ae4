"""Errors raised by services; each interface maps them to its own form (HTTP status, exit code)."""

from __future__ import annotations


class AssayError(Exception):
    """Base of every error a user may see. `message` is one line, safe to show."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(AssayError, ValueError):
    """A setting from the environment cannot be used; the message names the variable."""

    status = 500
    title = "Configuration error"


class InvalidInput(AssayError):
    status = 422
    title = "Invalid input"


class NotFound(AssayError):
    status = 404
    title = "Not found"


class PermissionDenied(AssayError):
    status = 403
    title = "Forbidden"


class Conflict(AssayError):
    status = 409
    title = "Conflict"


class AuthenticationFailed(AssayError):
    status = 401
    title = "Authentication failed"


class Throttled(AssayError):
    status = 429
    title = "Too many attempts"


class ContentTooLarge(AssayError):
    status = 413
    title = "Content too large"


class UnsupportedMediaType(AssayError):
    status = 415
    title = "Unsupported media type"
