"""The content format: frameworks and mappings as validated documents (no I/O here).

YAML files in `content/`, a user's own YAML file, and OSCAL catalogs all become a
`FrameworkDocument`; CSV, OSCAL mapping documents and YAML crosswalks become a `MappingDocument`.
The database loader only ever sees these two models. See docs/content-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.\-]{0,62}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=20000)]
PropertyValue = str | int | float | bool | list[str] | list[int]

FORMAT_FRAMEWORK = "assay/framework/v1"
GROUPING_LEVELS = frozenset({"family", "group", "domain"})
FORMAT_MAPPING = "assay/mapping/v1"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


class ControlEntry(Strict):
    """One node of a framework's tree: a function, category, control, safeguard, enhancement..."""

    id: Label = Field(description="Official identifier as published: GV.OC-01, 4.1, AC-2(1).")
    oscal_id: str | None = Field(default=None, max_length=64, description="OSCAL id: ac-2.1.")
    kind: Key = Field(description="What this node is: function, category, safeguard, ...")
    title: Text = Field(max_length=500)
    description: Text = ""
    withdrawn: bool = False
    properties: dict[Key, PropertyValue] = Field(default_factory=dict)
    controls: list[ControlEntry] = Field(default_factory=list)


class BaselineEntry(Strict):
    """A named selection of controls (an OSCAL profile, a CIS implementation group...)."""

    id: Key
    name: Text = Field(max_length=200)
    controls: list[Label]


class FrameworkDocument(Strict):
    format: str = Field(pattern=f"^{re.escape(FORMAT_FRAMEWORK)}$", default=FORMAT_FRAMEWORK)
    id: Key = Field(description="Stable key of the framework: nist-csf-2.0.")
    name: Text = Field(max_length=200)
    version: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="Version of the framework (2.0, 8.1, 5.0.1)."
    )
    content_version: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        default="1", description="Version of this file; a change re-loads it."
    )
    publisher: Text = Field(default="", max_length=200)
    source: Text = Field(default="", max_length=500)
    notice: Text = Field(default="", description="Licence or provenance note.")
    levels: list[Key] = Field(min_length=1, description="Name of each tree level, top first.")
    assessable: list[Key] | None = Field(
        default=None,
        description="Levels whose controls are answered in an assessment (default: see docs).",
    )
    controls: list[ControlEntry] = Field(min_length=1)
    baselines: list[BaselineEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_unique_and_references_resolve(self) -> FrameworkDocument:
        seen: set[str] = set()
        for depth, entry in walk(self.controls):
            if entry.id in seen:
                raise ValueError(f"duplicate control id {entry.id}")
            seen.add(entry.id)
            if depth >= len(self.levels):
                raise ValueError(f"control {entry.id} is deeper than the {len(self.levels)} levels")
        for baseline in self.baselines:
            missing = [c for c in baseline.controls if c not in seen]
            if missing:
                raise ValueError(f"baseline {baseline.id} names unknown controls: {missing[:5]}")
        if len({b.id for b in self.baselines}) != len(self.baselines):
            raise ValueError("duplicate baseline id")
        unknown = [name for name in self.assessable or [] if name not in self.levels]
        if unknown:
            raise ValueError(f"assessable names unknown levels: {unknown}")
        return self

    def assessable_levels(self) -> list[int]:
        """Levels (1 = top) whose controls an assessment answers.

        Default: every level below the first when the first only groups (families, groups), as
        in SP 800-53 where controls and enhancements are both assessed; otherwise the deepest
        level (CSF subcategories, CIS safeguards)."""
        if self.assessable:
            return [self.levels.index(name) + 1 for name in self.assessable]
        if len(self.levels) > 1 and self.levels[0] in GROUPING_LEVELS:
            return list(range(2, len(self.levels) + 1))
        return [len(self.levels)]


def walk(entries: list[ControlEntry], depth: int = 0) -> Iterator[tuple[int, ControlEntry]]:
    """Every entry of a tree with its depth (0 = top level), parents before children."""
    for entry in entries:
        yield depth, entry
        yield from walk(entry.controls, depth + 1)


class Relationship(StrEnum):
    """How a source control relates to a target control (NIST IR 8477 set-theory terms)."""

    EQUIVALENT = "equivalent"
    SUBSET_OF = "subset-of"
    SUPERSET_OF = "superset-of"
    INTERSECTS_WITH = "intersects-with"
    RELATED = "related"

    def inverse(self) -> Relationship:
        swap = {
            Relationship.SUBSET_OF: Relationship.SUPERSET_OF,
            Relationship.SUPERSET_OF: Relationship.SUBSET_OF,
        }
        return swap.get(self, self)


class MappingEntry(Strict):
    source: Label
    target: Label
    relationship: Relationship
    note: Text = Field(default="", max_length=1000)


class MappingDocument(Strict):
    format: str = Field(pattern=f"^{re.escape(FORMAT_MAPPING)}$", default=FORMAT_MAPPING)
    id: Key
    name: Text = Field(max_length=200)
    version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    content_version: Annotated[str, StringConstraints(min_length=1, max_length=40)] = "1"
    source_framework: Key
    target_framework: Key
    notice: Text = ""
    mappings: list[MappingEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_duplicate_pairs(self) -> MappingDocument:
        pairs = [(m.source, m.target) for m in self.mappings]
        if len(set(pairs)) != len(pairs):
            dupes = sorted({p for p in pairs if pairs.count(p) > 1})[:5]
            raise ValueError(f"duplicate mappings: {dupes}")
        return self
