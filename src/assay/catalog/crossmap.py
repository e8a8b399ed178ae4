"""Following crosswalks from a control to another framework: direct, else through one hop."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assay.catalog.models import Control, Framework, Mapping, MappingSet
from assay.catalog.schema import Relationship
from assay.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Step:
    """One mapping followed: from a control to a control, read in the direction travelled."""

    from_framework: str
    from_label: str
    to_framework: str
    to_label: str
    to_title: str
    relationship: Relationship
    mapping_set: str


@dataclass(frozen=True)
class MapPath:
    steps: tuple[Step, ...]

    @property
    def target(self) -> Step:
        return self.steps[-1]

    @property
    def relationship(self) -> Relationship:
        return compose([s.relationship for s in self.steps])


@dataclass(frozen=True)
class MapResult:
    framework: str
    label: str
    to_framework: str
    hops: int  # 0 when nothing maps
    paths: list[MapPath]


def compose(chain: list[Relationship]) -> Relationship:
    """The relationship a chain of mappings implies (anything uncertain becomes `related`)."""
    result = Relationship.EQUIVALENT
    for step in chain:
        if step is Relationship.EQUIVALENT:
            continue
        if result is Relationship.EQUIVALENT or (
            result is step
            and step
            in (
                Relationship.SUBSET_OF,
                Relationship.SUPERSET_OF,
            )
        ):
            result = step
        else:
            return Relationship.RELATED
    return result


def _edges(session: Session, control_ids: list[int]) -> list[tuple[int, int, Relationship, str]]:
    """Mappings touching the controls, as (near, far, relationship read near->far, set key)."""
    query = (
        select(Mapping.source_id, Mapping.target_id, Mapping.relationship, MappingSet.key)
        .join(MappingSet, MappingSet.id == Mapping.mapping_set_id)
        .where(or_(Mapping.source_id.in_(control_ids), Mapping.target_id.in_(control_ids)))
    )
    wanted = set(control_ids)
    edges = []
    for source, target, relationship, set_key in session.execute(query).all():
        rel = Relationship(relationship)
        if source in wanted:
            edges.append((source, target, rel, set_key))
        if target in wanted:
            edges.append((target, source, rel.inverse(), set_key))
    return edges


def map_control(session: Session, label: str, from_key: str, to_key: str) -> MapResult:
    """Controls of `to_key` that `label` maps to: direct mappings, else paths of two hops."""
    if any(ord(c) < 32 for c in label + from_key + to_key):
        raise InvalidInput("control and framework ids must not contain control characters")
    if from_key == to_key:
        raise InvalidInput("--from and --to name the same framework")
    frameworks = {
        f.key: f
        for f in session.scalars(select(Framework).where(Framework.key.in_([from_key, to_key])))
    }
    for key in (from_key, to_key):
        if key not in frameworks:
            raise NotFound(f"framework '{key[:80]}' not found")
    start = session.scalar(
        select(Control).where(
            Control.framework_id == frameworks[from_key].id, Control.label == label.strip()
        )
    )
    if start is None:
        raise NotFound(f"control '{label[:64]}' not found in {from_key}")
    first = _edges(session, [start.id])
    controls = _describe(session, {far for _, far, _, _ in first})
    target_fw = frameworks[to_key].id
    direct = [e for e in first if controls[e[1]][0].framework_id == target_fw]
    if direct:
        paths = [MapPath((_step(controls, from_key, start, e),)) for e in direct]
        return MapResult(from_key, start.label, to_key, 1, _sorted(paths))
    middle = {
        far
        for _, far, _, _ in first
        if controls[far][0].framework_id not in (target_fw, start.framework_id)
    }
    if not middle:
        return MapResult(from_key, start.label, to_key, 0, [])
    second = _edges(session, sorted(middle))
    controls.update(_describe(session, {far for _, far, _, _ in second} - set(controls)))
    paths = []
    for near_edge in (e for e in first if e[1] in middle):
        via, via_key = controls[near_edge[1]]
        first_step = _step(controls, from_key, start, near_edge)
        for edge in second:
            if edge[0] == via.id and controls[edge[1]][0].framework_id == target_fw:
                paths.append(MapPath((first_step, _step(controls, via_key, via, edge))))
    return MapResult(from_key, start.label, to_key, 2 if paths else 0, _sorted(paths))


def _describe(session: Session, ids: set[int]) -> dict[int, tuple[Control, str]]:
    if not ids:
        return {}
    query = (
        select(Control, Framework.key)
        .join(Framework, Framework.id == Control.framework_id)
        .where(Control.id.in_(ids))
    )
    return {control.id: (control, key) for control, key in session.execute(query).all()}


def _step(
    controls: dict[int, tuple[Control, str]],
    near_key: str,
    near: Control,
    edge: tuple[int, int, Relationship, str],
) -> Step:
    far, far_key = controls[edge[1]]
    return Step(near_key, near.label, far_key, far.label, far.title, edge[2], edge[3])


def _sorted(paths: list[MapPath]) -> list[MapPath]:
    return sorted(paths, key=lambda p: (p.target.to_label, [s.to_label for s in p.steps]))
