"""Writing framework and mapping documents into the database, in place, saying what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from assay.catalog.models import (
    Baseline,
    BaselineControl,
    Control,
    ControlAncestor,
    Framework,
    Mapping,
    MappingSet,
)
from assay.catalog.schema import FrameworkDocument, MappingDocument, walk
from assay.db.base import utcnow
from assay.errors import InvalidInput

CONTROL_FIELDS = (
    "parent_label",
    "oscal_id",
    "kind",
    "level",
    "title",
    "description",
    "withdrawn",
    "properties",
)
"""Fields whose change is reported; `position` (document order) is updated silently, or removing
one control would report every control after it as changed."""
HEADER_FIELDS = (
    "name",
    "version",
    "content_version",
    "publisher",
    "notice",
    "levels",
    "assessable",
)


class StoreError(InvalidInput):
    """A document that cannot be stored as it is; the caller adds the file name."""


@dataclass(frozen=True)
class UnknownId:
    index: int  # of the mapping in the document
    side: str  # source or target
    label: str
    framework: str


class UnknownIds(StoreError):
    """Mappings naming controls their frameworks lack; `unknown` says which, by index."""

    def __init__(self, mapping: str, unknown: list[UnknownId]) -> None:
        self.unknown = unknown
        shown = sorted({u.label for u in unknown})[:5]
        super().__init__(
            f"mapping {mapping}: {len(unknown)} ids not found in their frameworks, e.g. {shown}"
        )


@dataclass
class LoadReport:
    """What loading one document did."""

    kind: str  # framework or mapping
    key: str
    name: str
    version: str
    status: str = "unchanged"  # created, updated, unchanged
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    baselines: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reordered: bool = False  # controls kept their content but moved in the document
    total: int = 0

    def summary(self) -> str:
        head = f"{self.kind} {self.key} {self.version}: {self.status}"
        if self.status != "updated":
            return f"{head} ({self.total} entries)"
        parts = [f"{len(self.added)} added", f"{len(self.removed)} removed"]
        parts.append(f"{len(self.changed)} changed")
        if self.reordered:
            parts.append("order changed")
        if self.baselines:
            parts.append(f"baselines changed: {', '.join(self.baselines)}")
        return f"{head}: {', '.join(parts)}"


def _rows(doc: FrameworkDocument) -> dict[str, dict[str, Any]]:
    """The document flattened to one row per control, keyed by label, in document order."""
    rows: dict[str, dict[str, Any]] = {}
    parents: list[str] = []
    for position, (depth, entry) in enumerate(walk(doc.controls)):
        del parents[depth:]
        rows[entry.id] = {
            "label": entry.id,
            "parent_label": parents[-1] if parents else None,
            "oscal_id": entry.oscal_id,
            "kind": entry.kind,
            "level": depth + 1,
            "position": position,
            "title": entry.title,
            "description": entry.description,
            "withdrawn": entry.withdrawn,
            "properties": dict(entry.properties),
        }
        parents.append(entry.id)
    return rows


def _order(rows: dict[str, dict[str, Any]], other: dict[str, dict[str, Any]]) -> list[str]:
    """Labels of `rows` that `other` also has, in document order."""
    return [label for label in sorted(rows, key=lambda k: rows[k]["position"]) if label in other]


def _existing(session: Session, framework_id: int) -> dict[str, dict[str, Any]]:
    parent = select(Control.id, Control.label).where(Control.framework_id == framework_id)
    labels = dict(session.execute(parent).all())
    query = select(Control).where(Control.framework_id == framework_id)
    found: dict[str, dict[str, Any]] = {}
    for control in session.scalars(query):
        found[control.label] = {
            "id": control.id,
            "label": control.label,
            "parent_label": labels.get(control.parent_id) if control.parent_id else None,
            "oscal_id": control.oscal_id,
            "kind": control.kind,
            "level": control.level,
            "position": control.position,
            "title": control.title,
            "description": control.description,
            "withdrawn": control.withdrawn,
            "properties": control.properties,
        }
    return found


def _insert_controls(
    session: Session, framework_id: int, rows: list[dict[str, Any]], ids: dict[str, int]
) -> None:
    """Insert new controls level by level so that parents have ids before their children."""
    for level in sorted({row["level"] for row in rows}):
        batch = [
            {
                "framework_id": framework_id,
                "parent_id": ids[row["parent_label"]] if row["parent_label"] else None,
                **{k: v for k, v in row.items() if k not in ("parent_label", "id")},
            }
            for row in rows
            if row["level"] == level
        ]
        result = session.execute(
            insert(Control).returning(Control.id, Control.label, sort_by_parameter_order=True),
            batch,
        )
        ids.update({label: control_id for control_id, label in result.all()})


def _update_controls(session: Session, rows: list[dict[str, Any]], ids: dict[str, int]) -> None:
    if rows:
        session.execute(
            update(Control),
            [
                {
                    "id": ids[row["label"]],
                    "parent_id": ids[row["parent_label"]] if row["parent_label"] else None,
                    **{k: v for k, v in row.items() if k not in ("parent_label", "label")},
                }
                for row in rows
            ],
        )


def store_framework(
    session: Session, doc: FrameworkDocument, *, origin: str, digest: str
) -> LoadReport:
    """Create or update a framework in place. The same digest again changes nothing."""
    report = LoadReport("framework", doc.id, doc.name, doc.version)
    framework = session.scalar(select(Framework).where(Framework.key == doc.id))
    wanted = _rows(doc)
    report.total = len(wanted)
    if framework is not None and framework.digest == digest:
        return report
    header = {
        "name": doc.name,
        "version": doc.version,
        "content_version": doc.content_version,
        "digest": digest,
        "origin": origin,
        "publisher": doc.publisher,
        "source": doc.source,
        "notice": doc.notice,
        "levels": list(doc.levels),
        "assessable": doc.assessable_levels(),
    }
    header_changed = False
    if framework is None:
        framework = Framework(key=doc.id, **header)
        session.add(framework)
        session.flush()
        report.status = "created"
        existing: dict[str, dict[str, Any]] = {}
    else:
        header_changed = any(getattr(framework, f) != header[f] for f in HEADER_FIELDS)
        for name, value in header.items():
            setattr(framework, name, value)
        framework.loaded_at = utcnow()
        existing = _existing(session, framework.id)
    ids = {label: row["id"] for label, row in existing.items()}

    new_rows = [row for label, row in wanted.items() if label not in existing]
    report.added = [row["label"] for row in new_rows]
    report.removed = [label for label in existing if label not in wanted]
    report.changed = [
        label
        for label, row in wanted.items()
        if label in existing and any(existing[label][f] != row[f] for f in CONTROL_FIELDS)
    ]
    moved = [
        label
        for label, row in wanted.items()
        if label in existing and existing[label]["position"] != row["position"]
    ]
    report.reordered = _order(existing, wanted) != _order(wanted, existing)
    if report.removed:
        removed_ids = [ids.pop(label) for label in report.removed]
        session.execute(delete(Control).where(Control.id.in_(removed_ids)))
    _insert_controls(session, framework.id, new_rows, ids)
    _update_controls(
        session, [wanted[label] for label in dict.fromkeys(report.changed + moved)], ids
    )
    _store_ancestors(session, framework.id, wanted, ids)
    report.baselines = _store_baselines(session, framework.id, doc, ids)
    if report.status != "created" and (
        header_changed
        or report.added
        or report.removed
        or report.changed
        or report.baselines
        or report.reordered
    ):
        report.status = "updated"
    session.flush()
    return report


def _store_ancestors(
    session: Session, framework_id: int, rows: dict[str, dict[str, Any]], ids: dict[str, int]
) -> None:
    """Rebuild the framework's closure table from the document's parent links."""
    session.execute(
        delete(ControlAncestor).where(
            ControlAncestor.control_id.in_(
                select(Control.id).where(Control.framework_id == framework_id)
            )
        )
    )
    pairs = []
    for label in rows:
        depth, current = 0, label
        while current is not None:
            pairs.append({"control_id": ids[label], "ancestor_id": ids[current], "depth": depth})
            current, depth = rows[current]["parent_label"], depth + 1
    session.execute(insert(ControlAncestor), pairs)


def _store_baselines(
    session: Session, framework_id: int, doc: FrameworkDocument, ids: dict[str, int]
) -> list[str]:
    """Replace baselines whose selection changed; return the keys that changed."""
    current = {
        b.key: b
        for b in session.scalars(select(Baseline).where(Baseline.framework_id == framework_id))
    }
    changed: list[str] = []
    for entry in doc.baselines:
        selection = sorted(set(entry.controls))
        digest = _selection_digest(entry.name, selection)
        baseline = current.pop(entry.id, None)
        if baseline is not None and baseline.digest == digest:
            continue
        changed.append(entry.id)
        if baseline is None:
            baseline = Baseline(
                framework_id=framework_id, key=entry.id, name=entry.name, digest=digest
            )
            session.add(baseline)
            session.flush()
        else:
            baseline.name, baseline.digest = entry.name, digest
            session.execute(
                delete(BaselineControl).where(BaselineControl.baseline_id == baseline.id)
            )
        session.execute(
            insert(BaselineControl),
            [{"baseline_id": baseline.id, "control_id": ids[label]} for label in selection],
        )
    return changed


def _selection_digest(name: str, labels: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join([name, *labels]).encode()).hexdigest()


def store_baseline(
    session: Session, framework: Framework, key: str, name: str, labels: list[str]
) -> LoadReport:
    """Add or replace one baseline (e.g. a resolved OSCAL profile) on a loaded framework."""
    ids = dict(
        session.execute(
            select(Control.label, Control.id).where(Control.framework_id == framework.id)
        ).all()
    )
    unknown = [label for label in labels if label not in ids]
    if unknown:
        raise StoreError(f"baseline {key} names controls not in {framework.key}: {unknown[:5]}")
    report = LoadReport(
        "baseline", f"{framework.key}/{key}", name, framework.version, total=len(set(labels))
    )
    existing = session.scalar(
        select(Baseline).where(Baseline.framework_id == framework.id, Baseline.key == key)
    )
    selection = sorted(set(labels))
    digest = _selection_digest(name, selection)
    if existing is not None and existing.digest == digest:
        return report
    before: set[str] = set()
    if existing is None:
        existing = Baseline(framework_id=framework.id, key=key, name=name, digest=digest)
        session.add(existing)
        session.flush()
        report.status = "created"
    else:
        label_of = {v: k for k, v in ids.items()}
        before = {
            label_of[c]
            for c in session.scalars(
                select(BaselineControl.control_id).where(BaselineControl.baseline_id == existing.id)
            )
        }
        existing.name, existing.digest = name, digest
        session.execute(delete(BaselineControl).where(BaselineControl.baseline_id == existing.id))
        report.status = "updated"
        report.added = sorted(set(selection) - before)
        report.removed = sorted(before - set(selection))
    session.execute(
        insert(BaselineControl),
        [{"baseline_id": existing.id, "control_id": ids[label]} for label in selection],
    )
    session.flush()
    return report


def store_mapping(
    session: Session,
    doc: MappingDocument,
    *,
    origin: str,
    digest: str,
    skip_unknown: bool = False,
) -> LoadReport:
    """Create or replace a crosswalk; every control it names must exist in its frameworks.

    With `skip_unknown`, mappings naming ids the frameworks lack are left out and listed in the
    report's `skipped` instead (e.g. NIST's CSF 2.0 crosswalk cites IA-13, which SP 800-53 5.1.1
    added, against a 5.0.1 catalog)."""
    report = LoadReport("mapping", doc.id, doc.name, doc.version, total=len(doc.mappings))
    frameworks = {
        f.key: f
        for f in session.scalars(
            select(Framework).where(Framework.key.in_([doc.source_framework, doc.target_framework]))
        )
    }
    for key in (doc.source_framework, doc.target_framework):
        if key not in frameworks:
            raise StoreError(f"mapping {doc.id}: framework '{key}' is not loaded; import it first")
    source, target = frameworks[doc.source_framework], frameworks[doc.target_framework]
    source_ids = _label_ids(session, source.id)
    target_ids = _label_ids(session, target.id)
    dangling = _unknown_ids(doc, source_ids, target_ids)
    if dangling and skip_unknown:
        kept = [m for m in doc.mappings if m.source in source_ids and m.target in target_ids]
        report.skipped = [f"{m.source}->{m.target}" for m in doc.mappings if m not in kept]
        if not kept:
            raise StoreError(f"mapping {doc.id}: none of its ids exist in the frameworks")
        doc = doc.model_copy(update={"mappings": kept})
        report.total = len(kept)
    elif dangling:
        raise UnknownIds(doc.id, dangling)
    existing = session.scalar(select(MappingSet).where(MappingSet.key == doc.id))
    if existing is not None and existing.digest == digest:
        return report
    header = {
        "name": doc.name,
        "version": doc.version,
        "content_version": doc.content_version,
        "digest": digest,
        "origin": origin,
        "notice": doc.notice,
        "source_framework_id": source.id,
        "target_framework_id": target.id,
    }
    wanted = {(m.source, m.target): m for m in doc.mappings}
    if existing is None:
        existing = MappingSet(key=doc.id, **header)
        session.add(existing)
        session.flush()
        report.status = "created"
    else:
        before = _mapping_pairs(session, existing.id)
        report.added = [f"{s}->{t}" for s, t in wanted if (s, t) not in before]
        report.removed = [f"{s}->{t}" for s, t in before if (s, t) not in wanted]
        report.changed = [
            f"{s}->{t}"
            for (s, t), m in wanted.items()
            if (s, t) in before and before[(s, t)] != (m.relationship.value, m.note)
        ]
        header_changed = any(getattr(existing, f) != v for f, v in header.items() if f != "digest")
        for name, value in header.items():
            setattr(existing, name, value)
        existing.loaded_at = utcnow()
        session.execute(delete(Mapping).where(Mapping.mapping_set_id == existing.id))
        if header_changed or report.added or report.removed or report.changed:
            report.status = "updated"
    session.execute(
        insert(Mapping),
        [
            {
                "mapping_set_id": existing.id,
                "source_id": source_ids[m.source],
                "target_id": target_ids[m.target],
                "relationship": m.relationship.value,
                "note": m.note,
            }
            for m in doc.mappings
        ],
    )
    session.flush()
    return report


def _unknown_ids(
    doc: MappingDocument, source_ids: dict[str, int], target_ids: dict[str, int]
) -> list[UnknownId]:
    found = []
    for i, m in enumerate(doc.mappings):
        if m.source not in source_ids:
            found.append(UnknownId(i, "source", m.source, doc.source_framework))
        if m.target not in target_ids:
            found.append(UnknownId(i, "target", m.target, doc.target_framework))
    return found


def _label_ids(session: Session, framework_id: int) -> dict[str, int]:
    query = select(Control.label, Control.id).where(Control.framework_id == framework_id)
    return dict(session.execute(query).all())


def _mapping_pairs(session: Session, mapping_set_id: int) -> dict[tuple[str, str], tuple[str, str]]:
    from sqlalchemy.orm import aliased

    source, target = aliased(Control), aliased(Control)
    query = (
        select(source.label, target.label, Mapping.relationship, Mapping.note)
        .join(source, Mapping.source_id == source.id)
        .join(target, Mapping.target_id == target.id)
        .where(Mapping.mapping_set_id == mapping_set_id)
    )
    return {(s, t): (r, n) for s, t, r, n in session.execute(query).all()}
