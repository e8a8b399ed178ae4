"""The content format: frameworks and mappings as validated documents (no I/O here).

YAML files in `content/`, a user's own YAML file, and OSCAL catalogs all become a
`FrameworkDocument`; CSV, OSCAL mapping documents and YAML crosswalks become a `MappingDocument`.
The database loader only ever sees these two models. See docs/content-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

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
    def _cross_references(self, info: ValidationInfo) -> FrameworkDocument:
        return _refuse(self, framework_issues, info)

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
    def _cross_references(self, info: ValidationInfo) -> MappingDocument:
        return _refuse(self, mapping_issues, info)


# --- cross-references: checked in a pass of their own, so that every problem is reported -------

Loc = tuple[int | str, ...]
SKIP_CROSS_REFERENCES = "skip-cross-references"
"""Validation context key: the caller runs `framework_issues` / `mapping_issues` itself (the
YAML loader does, on the raw data, to report every problem with its line)."""

Doc = TypeVar("Doc", bound=BaseModel)


@dataclass(frozen=True)
class Issue:
    """A cross-reference problem: where (a path such as controls.0.controls.1.id) and what;
    `first` is where the entry it clashes with is."""

    loc: Loc
    message: str
    first: Loc | None = None

    @property
    def path(self) -> str:
        return ".".join(str(p) for p in self.loc)

    def __str__(self) -> str:
        first = f" (first at {'.'.join(str(p) for p in self.first)})" if self.first else ""
        return f"{self.path}: {self.message}{first}"


def _refuse(document: Doc, check: Callable[[Any], list[Issue]], info: ValidationInfo) -> Doc:
    """The validated document, unless `check` finds problems (and the caller did not say it
    runs the check itself)."""
    if isinstance(info.context, dict) and info.context.get(SKIP_CROSS_REFERENCES):
        return document
    issues = check(document)
    if issues:
        more = f" (and {len(issues) - 5} more)" if len(issues) > 5 else ""
        raise ValueError("; ".join(str(issue) for issue in issues[:5]) + more)
    return document


def _get(item: Any, name: str) -> Any:
    """A field of raw YAML data (a dict) or of a model; None when absent."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _items(item: Any, name: str) -> list[Any]:
    value = _get(item, name)
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _walk_any(entries: list[Any], loc: Loc, depth: int = 0) -> Iterator[tuple[Loc, int, Any]]:
    for i, entry in enumerate(entries):
        if isinstance(entry, dict | ControlEntry):
            yield (*loc, i), depth, entry
            yield from _walk_any(_items(entry, "controls"), (*loc, i, "controls"), depth + 1)


def framework_issues(document: Any) -> list[Issue]:
    """Cross-reference problems of a framework (raw YAML data or a model): duplicate control
    ids, controls deeper than the levels, baselines naming unknown controls or named twice,
    `assessable` naming unknown levels. Malformed parts are skipped: field checks report them."""
    levels = _get(document, "levels")
    limit = len(levels) if isinstance(levels, list) and levels else None
    issues: list[Issue] = []
    seen: dict[str, Loc] = {}
    for loc, depth, entry in _walk_any(_items(document, "controls"), ("controls",)):
        label = _text(_get(entry, "id"))
        if label is not None and label in seen:
            issues.append(Issue((*loc, "id"), f"duplicate control id {label}", seen[label]))
        elif label is not None:
            seen[label] = (*loc, "id")
        if limit is not None and depth == limit:
            issues.append(
                Issue(loc, f"control {label or 'without id'} is deeper than the {limit} levels")
            )
    issues += _baseline_issues(document, set(seen))
    for i, name in enumerate(_items(document, "assessable")):
        if isinstance(name, str) and isinstance(levels, list) and name.strip() not in levels:
            issues.append(Issue(("assessable", i), f"assessable names unknown level {name}"))
    return issues


def _baseline_issues(document: Any, known: set[str]) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[str, Loc] = {}
    for i, baseline in enumerate(_items(document, "baselines")):
        key = _text(_get(baseline, "id"))
        if key is not None and key in seen:
            issues.append(Issue(("baselines", i, "id"), f"duplicate baseline id {key}", seen[key]))
        elif key is not None:
            seen[key] = ("baselines", i, "id")
        for j, label in enumerate(_items(baseline, "controls")):
            text = _text(label)
            if text is not None and text not in known:
                where: Loc = ("baselines", i, "controls", j)
                issues.append(Issue(where, f"baseline {key} names unknown control {text}"))
    return issues


def mapping_issues(document: Any) -> list[Issue]:
    """Cross-reference problems of a crosswalk (raw YAML data or a model): a source/target
    pair listed twice."""
    issues: list[Issue] = []
    seen: dict[tuple[str, str], Loc] = {}
    for i, entry in enumerate(_items(document, "mappings")):
        source, target = _text(_get(entry, "source")), _text(_get(entry, "target"))
        if source is None or target is None:
            continue
        if (source, target) in seen:
            first = seen[(source, target)]
            issues.append(Issue(("mappings", i), f"duplicate mapping {source} -> {target}", first))
        else:
            seen[(source, target)] = ("mappings", i)
    return issues
