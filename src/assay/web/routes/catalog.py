"""Control catalogs: the frameworks, a framework's tree, a control's page and search.

Catalogs are published standards shared by the whole installation, not client data: every
signed-in user may read them, whatever their organizations. The pages are read-only (imports
are CLI-only), so they hold no forms that change anything, only GET forms for filters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from assay.catalog import crossmap
from assay.catalog import service as catalog
from assay.catalog.crossmap import MapResult
from assay.catalog.models import Control
from assay.db.engine import unit_of_work
from assay.errors import AssayError, InvalidInput
from assay.web.layout import chrome_for
from assay.web.paging import PAGE_SIZE, Pager
from assay.web.params import (
    MAX_FRAMEWORK_KEY_CHARS,
    NO_CONTROL_CHARS,
    ControlLabel,
    FrameworkKey,
    PageNumber,
)
from assay.web.session import require_visitor
from assay.web.templating import baseline_label, render

router = APIRouter(include_in_schema=False)

SECTION = "catalogs"
MAX_LEVEL_CHARS = 2
MAX_QUERY_CHARS = 20_000  # the service allows 200; longer text gets its message on the page
MAX_SHOWN_QUERY_CHARS = 200  # what the search box shows again

FrameworkChoice = Annotated[
    str, Query(max_length=MAX_FRAMEWORK_KEY_CHARS, pattern=NO_CONTROL_CHARS)
]


@dataclass
class TreeNode:
    """A control and the controls under it, for the nested lists of a framework page."""

    control: Control
    children: list[TreeNode] = field(default_factory=list)


def build_tree(controls: Sequence[Control]) -> list[TreeNode]:
    """Nest controls given in document order; a control whose parent is not shown is a root."""
    nodes = {control.id: TreeNode(control) for control in controls}
    roots: list[TreeNode] = []
    for control in controls:
        parent = nodes.get(control.parent_id) if control.parent_id is not None else None
        (parent.children if parent is not None else roots).append(nodes[control.id])
    return roots


def _level(raw: str) -> int | None:
    """The level filter of the GET form: '' for every level, else a level number."""
    value = raw.strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput("level must be a level number")
    return int(value)


def _baseline_title(keys: Sequence[str]) -> str:
    """CIS's baselines are its implementation groups (ig1..ig3); others are just baselines."""
    if keys and all(baseline_label(key) != key for key in keys):
        return "Implementation group"
    return "Baseline"


@router.get("/catalogs")
def show_catalogs(request: Request) -> Response:
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        context = {
            "chrome": chrome_for(db, visitor, section=SECTION),
            "summaries": catalog.list_frameworks(db),
            "search_q": "",
            "search_framework": "",
        }
    return render(request, "catalog_list.html", context)


# Registered before /catalogs/{framework}, which would otherwise take "search" for a key.
@router.get("/catalogs/search")
def search_catalogs(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, pattern=NO_CONTROL_CHARS)] = "",
    framework: FrameworkChoice = "",
    page: PageNumber = 1,
) -> Response:
    error: AssayError | None = None
    hits: list[tuple[str, Control]] = []
    total = 0
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        summaries = catalog.list_frameworks(db)
        if q.strip():
            try:
                hits, total = catalog.search(
                    db,
                    q,
                    framework=framework or None,
                    limit=PAGE_SIZE,
                    offset=Pager.offset_of(page),
                )
            except AssayError as exc:
                error = exc
        context = {
            "chrome": chrome_for(db, visitor, section=SECTION),
            "summaries": summaries,
            "names": {s.framework.key: s.framework.name for s in summaries},
            "search_q": q[:MAX_SHOWN_QUERY_CHARS],
            "search_framework": framework,
            "searched": bool(q.strip()) and error is None,
            "hits": hits,
            "pager": Pager(page, PAGE_SIZE, total),
            "error": error,
        }
    return render(request, "catalog_search.html", context, status=error.status if error else 200)


@router.get("/catalogs/{framework}")
def show_framework(
    request: Request,
    framework: FrameworkKey,
    level: Annotated[str, Query(max_length=MAX_LEVEL_CHARS)] = "",
    baseline: FrameworkChoice = "",
    expand: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    max_level = _level(level)
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        found, controls = catalog.framework_controls(
            db, framework, max_level=max_level, baseline=baseline or None
        )
        summaries = catalog.list_frameworks(db)
        summary = next(s for s in summaries if s.framework.id == found.id)
        filtered = max_level is not None or bool(baseline)
        shown = Counter(control.level for control in controls)
        context = {
            "chrome": chrome_for(db, visitor, section=SECTION),
            "summaries": summaries,
            "summary": summary,
            "search_q": "",
            "search_framework": found.key,
            "framework": found,
            "tree": build_tree(controls),
            "shown": [(name, shown.get(i, 0)) for i, name in enumerate(found.levels, 1)],
            "total_shown": len(controls),
            "level": max_level,
            "baseline": baseline,
            "filtered": filtered,
            "open_all": expand == "1" or (expand == "" and filtered),
            "baseline_title": _baseline_title(summary.baselines),
        }
    return render(request, "framework.html", context)


@router.get("/catalogs/{framework}/controls/{label}")
def show_control(
    request: Request, framework: FrameworkKey, label: ControlLabel, to: FrameworkChoice = ""
) -> Response:
    mapping: MapResult | None = None
    map_error: AssayError | None = None
    with unit_of_work() as db:
        visitor = require_visitor(db, request)
        detail = catalog.get_control(db, framework, label)
        summaries = catalog.list_frameworks(db)
        if to:
            try:
                mapping = crossmap.map_control(db, detail.control.label, detail.framework.key, to)
            except AssayError as exc:
                map_error = exc
        others = [s.framework for s in summaries if s.framework.id != detail.framework.id]
        context = {
            "chrome": chrome_for(db, visitor, section=SECTION),
            "summaries": summaries,
            "names": {s.framework.key: s.framework.name for s in summaries},
            "search_q": "",
            "search_framework": "",
            "detail": detail,
            "framework": detail.framework,
            "control": detail.control,
            "others": others,
            "has_baselines": any(
                s.baselines for s in summaries if s.framework.id == detail.framework.id
            ),
            "to": to or (others[0].key if others else ""),
            "mapping": mapping,
            "error": map_error,
        }
    status = map_error.status if map_error is not None else 200
    return render(request, "control.html", context, status=status)
