"""The Jinja2 environment (autoescaping, strict about missing variables) and `render`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

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


def framework_href(key: str) -> str:
    """The page of a catalog framework."""
    return "/catalogs/" + quote(key, safe="")


def control_href(key: str, label: str) -> str:
    """The page of a control; labels such as AC-2(1) are percent-encoded."""
    return framework_href(key) + "/controls/" + quote(label, safe="")


def plural(word: str, count: int = 2) -> str:
    """A level name for a count: 1 function, 22 categories, 153 safeguards."""
    if count == 1:
        return word
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


_IG = re.compile(r"ig(\d+)")


def baseline_label(key: str) -> str:
    """A baseline's short name: CIS implementation groups read IG1, IG2, IG3."""
    found = _IG.fullmatch(key)
    return f"IG{found.group(1)}" if found else key


def relationship_label(value: object) -> str:
    """A crosswalk relationship as words: 'subset-of' -> 'subset of'."""
    return str(value).replace("-", " ")


RELATIONSHIP_PHRASES = {
    "equivalent": "is equivalent to",
    "subset-of": "is a subset of",
    "superset-of": "is a superset of",
    "intersects-with": "intersects with",
    "related": "is related to",
}


def relationship_phrase(value: object) -> str:
    """A relationship as the verb of a sentence: '1.1 is a subset of ID.AM-01'."""
    return RELATIONSHIP_PHRASES.get(str(value), relationship_label(value))


PROPERTY_LABELS = {
    "implementation-groups": "Implementation groups",
    "asset-type": "Asset type",
    "security-function": "Security function",
}


def property_label(key: str) -> str:
    return PROPERTY_LABELS.get(key, key.replace("-", " ").replace("_", " ").capitalize())


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
    env.filters["plural"] = plural
    env.filters["baseline_label"] = baseline_label
    env.filters["relationship_label"] = relationship_label
    env.filters["relationship_phrase"] = relationship_phrase
    env.filters["property_label"] = property_label
    env.globals["framework_href"] = framework_href
    env.globals["control_href"] = control_href
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
