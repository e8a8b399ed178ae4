"""Rebuilding a stored framework as a FrameworkDocument (for export and profile resolution)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.catalog.models import Baseline, BaselineControl, Control, Framework
from assay.catalog.schema import BaselineEntry, ControlEntry, FrameworkDocument


def framework_document(session: Session, framework: Framework) -> FrameworkDocument:
    """The framework as stored: tree in document order, with its baselines."""
    rows = list(
        session.scalars(
            select(Control).where(Control.framework_id == framework.id).order_by(Control.position)
        )
    )
    entries: dict[int, ControlEntry] = {}
    roots: list[ControlEntry] = []
    for row in rows:
        entry = ControlEntry(
            id=row.label,
            oscal_id=row.oscal_id,
            kind=row.kind,
            title=row.title,
            description=row.description,
            withdrawn=row.withdrawn,
            properties=row.properties,
        )
        entries[row.id] = entry
        if row.parent_id is None:
            roots.append(entry)
        else:
            entries[row.parent_id].controls.append(entry)
    label_of = {row.id: row.label for row in rows}
    order = {row.label: row.position for row in rows}
    baselines = []
    for baseline in session.scalars(
        select(Baseline).where(Baseline.framework_id == framework.id).order_by(Baseline.key)
    ):
        members = session.scalars(
            select(BaselineControl.control_id).where(BaselineControl.baseline_id == baseline.id)
        )
        labels = sorted((label_of[m] for m in members), key=order.__getitem__)
        baselines.append(BaselineEntry(id=baseline.key, name=baseline.name, controls=labels))
    return FrameworkDocument(
        id=framework.key,
        name=framework.name,
        version=framework.version,
        content_version=framework.content_version,
        publisher=framework.publisher,
        source=framework.source,
        notice=framework.notice,
        levels=framework.levels,
        assessable=[framework.levels[n - 1] for n in framework.assessable] or None,
        controls=roots,
        baselines=baselines,
    )
