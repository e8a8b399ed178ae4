"""Control catalogs: frameworks, their controls, search and crosswalks (read-only, global).

Catalogs are published standards shared by the whole installation, not client data: any
authenticated caller may read them, whatever its organization and role. Imports are CLI-only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assay.api.bodies import BoundedBodyRoute
from assay.api.catalog_schemas import (
    ControlDetailOut,
    ControlOut,
    FrameworkDetailOut,
    FrameworkOut,
    MapOut,
    TreeControlOut,
)
from assay.api.deps import DbSession, current_actor
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of, slice_list
from assay.api.params import (
    MAX_FRAMEWORK_KEY_CHARS,
    MAX_LABEL_CHARS,
    NO_CONTROL_CHARS,
    ControlLabel,
    FrameworkKey,
)
from assay.catalog import crossmap
from assay.catalog import service as catalog
from assay.errors import InvalidInput

MAX_SEARCH_CHARS = 200
MAX_LEVEL = 32
MAX_IMPLEMENTATION_GROUP = 9

# Authentication only: catalogs carry no organization data and need no authorization.
router = APIRouter(
    tags=["catalogs"], dependencies=[Depends(current_actor)], route_class=BoundedBodyRoute
)

FrameworkFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_FRAMEWORK_KEY_CHARS,
        pattern=NO_CONTROL_CHARS,
        description="Only this framework's controls (its key).",
    ),
]


@router.get("/frameworks")
def list_frameworks(session: DbSession, page: PageQuery) -> Page[FrameworkOut]:
    """Frameworks loaded in this installation, by key, with their counts per level."""
    summaries, total = slice_list(catalog.list_frameworks(session), page)
    return page_of(FrameworkOut, map(FrameworkOut.of, summaries), total, page)


@router.get("/frameworks/{framework}", responses=problem_responses(404))
def get_framework(session: DbSession, framework: FrameworkKey) -> FrameworkDetailOut:
    """One framework: provenance, licence notice, counts per level and baselines."""
    found = catalog.get_framework(session, framework)  # NotFound names the loaded frameworks
    summary = next(s for s in catalog.list_frameworks(session) if s.framework.id == found.id)
    return FrameworkDetailOut.of(summary)


@router.get("/frameworks/{framework}/controls", responses=problem_responses(404))
def list_controls(
    session: DbSession,
    framework: FrameworkKey,
    page: PageQuery,
    level: Annotated[
        int | None,
        Query(ge=1, le=MAX_LEVEL, description="Down to this level only (1: the top level)."),
    ] = None,
    baseline: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_FRAMEWORK_KEY_CHARS,
            pattern=NO_CONTROL_CHARS,
            description="Only the controls a baseline selects, with their ancestors.",
        ),
    ] = None,
    ig: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_IMPLEMENTATION_GROUP,
            description="CIS implementation group: the same as `baseline=ig<n>`.",
        ),
    ] = None,
) -> Page[TreeControlOut]:
    """The framework's controls as a flat list in document order, each with its parent."""
    if ig is not None:
        if baseline is not None:
            raise InvalidInput("give either baseline or ig, not both")
        baseline = f"ig{ig}"
    found, controls = catalog.framework_controls(
        session, framework, max_level=level, baseline=baseline
    )
    labels = {control.id: control.label for control in controls}
    rows, total = slice_list(controls, page)
    items = (
        TreeControlOut.in_tree(
            found.key, c, labels.get(c.parent_id) if c.parent_id is not None else None
        )
        for c in rows
    )
    return page_of(TreeControlOut, items, total, page)


@router.get("/frameworks/{framework}/controls/{label}", responses=problem_responses(404))
def get_control(
    session: DbSession, framework: FrameworkKey, label: ControlLabel
) -> ControlDetailOut:
    """One control with its parent, children, baselines and crosswalk mappings both ways."""
    return ControlDetailOut.of_detail(catalog.get_control(session, framework, label))


@router.get("/catalog/search", responses=problem_responses(404))
def search_controls(
    session: DbSession,
    page: PageQuery,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_SEARCH_CHARS,
            pattern=NO_CONTROL_CHARS,
            description="Text to find in identifiers, titles and descriptions (any case).",
        ),
    ],
    framework: FrameworkFilter = None,
) -> Page[ControlOut]:
    """Controls whose identifier, title or description contains the text, in document order."""
    hits, total = catalog.search(
        session, q, framework=framework, limit=page.limit, offset=page.offset
    )
    return page_of(ControlOut, (ControlOut.of(key, c) for key, c in hits), total, page)


@router.get("/catalog/map", responses=problem_responses(404))
def map_control(
    session: DbSession,
    control: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_LABEL_CHARS,
            pattern=NO_CONTROL_CHARS,
            description="The control's label in the `from` framework.",
        ),
    ],
    from_framework: Annotated[
        str,
        Query(
            alias="from",
            min_length=1,
            max_length=MAX_FRAMEWORK_KEY_CHARS,
            pattern=NO_CONTROL_CHARS,
            description="The control's framework (its key).",
        ),
    ],
    to_framework: Annotated[
        str,
        Query(
            alias="to",
            min_length=1,
            max_length=MAX_FRAMEWORK_KEY_CHARS,
            pattern=NO_CONTROL_CHARS,
            description="The framework to map to (its key).",
        ),
    ],
) -> MapOut:
    """Controls of the `to` framework a control maps to: direct mappings, else two-hop paths
    through a third framework, each with the steps taken."""
    return MapOut.of(crossmap.map_control(session, control, from_framework, to_framework))
