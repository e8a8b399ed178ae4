"""The Jinja2 environment (autoescaping, strict about missing variables) and `render`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from assay.tenancy.models import OrgKind, Role

ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.IT_OPERATOR: "IT operator",
    Role.AUDITOR: "Auditor",
    Role.EXECUTIVE: "Executive",
}
KIND_LABELS = {
    OrgKind.MSP: "Managed service provider",
    OrgKind.CLIENT: "Client organization",
    OrgKind.AUDITOR: "Auditor firm",
}


def when(value: datetime | None) -> str:
    """A timestamp as people read it, in UTC."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def role_label(value: object) -> str:
    try:
        return ROLE_LABELS[Role(str(value))]
    except ValueError:
        return str(value)


def kind_label(value: object) -> str:
    try:
        return KIND_LABELS[OrgKind(str(value))]
    except ValueError:
        return str(value)


KIND_SHORT = {OrgKind.MSP: "MSP", OrgKind.CLIENT: "client", OrgKind.AUDITOR: "auditor firm"}


def kind_short(value: object) -> str:
    try:
        return KIND_SHORT[OrgKind(str(value))]
    except ValueError:
        return str(value)


def detail_value(value: object) -> str:
    """One value of an audit event's detail, as text."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(detail_value(item) for item in value)
    return str(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("assay.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["role_label"] = role_label
    env.filters["kind_label"] = kind_label
    env.filters["kind_short"] = kind_short
    env.filters["detail_value"] = detail_value
    env.globals["roles"] = [(role.value, ROLE_LABELS[role]) for role in Role]
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a page. Every page gets `chrome` (None when signed out), `error` and `notice`."""
    full: dict[str, Any] = {"chrome": None, "error": None, "notice": None}
    full.update(context)
    return templates.TemplateResponse(request, name, full, status_code=status, headers=headers)
