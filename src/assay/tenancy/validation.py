"""Input rules for organizations and memberships, shared by every interface."""

from __future__ import annotations

import re

from assay.errors import InvalidInput
from assay.tenancy.models import OrgKind, Role

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_NAME_CHARS = 200


def clean_slug(slug: str) -> str:
    value = slug.strip()
    if not SLUG_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"invalid slug '{value[:70]}': use 1-63 lowercase letters, digits and inner hyphens"
        )
    return value


def clean_name(name: str, what: str = "name") -> str:
    value = " ".join(name.split())
    if not value:
        raise InvalidInput(f"{what} must not be empty")
    if len(value) > MAX_NAME_CHARS:
        raise InvalidInput(f"{what} must have at most {MAX_NAME_CHARS} characters")
    return value


def parse_kind(kind: str) -> OrgKind:
    try:
        return OrgKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in OrgKind)
        raise InvalidInput(f"unknown organization kind '{kind[:40]}' (use {allowed})") from None


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role '{role[:40]}' (use {allowed})") from None
