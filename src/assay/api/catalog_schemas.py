"""Response bodies of the catalog endpoints: frameworks, controls, crosswalks and mapping paths.

Catalogs are published standards shared by the whole installation; nothing here carries
organization data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from assay.catalog.crossmap import MapPath, MapResult, Step
from assay.catalog.models import Control
from assay.catalog.schema import Relationship
from assay.catalog.service import ControlDetail, FrameworkSummary, MappedControl

_RELATIONSHIP_TERMS = "NIST IR 8477 set-theory terms"


class FrameworkOut(BaseModel):
    """A framework with the number of controls on each level of its tree."""

    id: str = Field(description="The framework's key.", examples=["nist-csf-2.0"])
    name: str = Field(examples=["NIST Cybersecurity Framework"])
    version: str = Field(examples=["2.0"])
    origin: str = Field(description="Where it came from: builtin, yaml or oscal.")
    publisher: str
    levels: list[str] = Field(
        description="Name of each level of the tree, top first.",
        examples=[["function", "category", "subcategory"]],
    )
    counts: dict[str, int] = Field(
        description="Controls per level name (withdrawn ones included).",
        examples=[{"function": 6, "category": 22, "subcategory": 106}],
    )
    withdrawn: int = Field(description="Controls marked withdrawn.")
    baselines: list[str] = Field(
        description="Keys of the framework's baselines (e.g. CIS implementation groups).",
        examples=[["ig1", "ig2", "ig3"]],
    )

    @classmethod
    def of(cls, summary: FrameworkSummary) -> FrameworkOut:
        framework = summary.framework
        return cls(
            id=framework.key,
            name=framework.name,
            version=framework.version,
            origin=framework.origin,
            publisher=framework.publisher,
            levels=list(framework.levels),
            counts=dict(summary.counts),
            withdrawn=summary.withdrawn,
            baselines=list(summary.baselines),
        )


class FrameworkDetailOut(FrameworkOut):
    """A framework's header: its counts, provenance and licence notice."""

    content_version: str = Field(description="Version of the content file it was loaded from.")
    source: str = Field(description="The publication it follows.")
    notice: str = Field(description="Licence or provenance note.")
    loaded_at: datetime

    @classmethod
    def of(cls, summary: FrameworkSummary) -> FrameworkDetailOut:
        framework = summary.framework
        return cls(
            **FrameworkOut.of(summary).model_dump(),
            content_version=framework.content_version,
            source=framework.source,
            notice=framework.notice,
            loaded_at=framework.loaded_at,
        )


class ControlOut(BaseModel):
    """One node of a framework's tree: a function, category, control, safeguard..."""

    framework: str = Field(description="The framework's key.", examples=["cis-controls-v8.1"])
    label: str = Field(description="The official identifier.", examples=["1.1"])
    oscal_id: str | None = Field(description="The OSCAL id, when known.")
    kind: str = Field(examples=["safeguard"])
    level: int = Field(description="Depth in the tree: 1 is the top level.")
    title: str
    description: str
    withdrawn: bool
    properties: dict[str, Any] = Field(
        description="Framework-specific facts; CIS safeguards carry `implementation-groups`, "
        "`asset-type` and `security-function`.",
        examples=[
            {
                "implementation-groups": [1, 2, 3],
                "asset-type": "Devices",
                "security-function": "Identify",
            }
        ],
    )
    official_title: str | None = Field(
        description="The publisher's own title, when a licensee loaded it (CIS workbook)."
    )
    official_description: str | None = Field(
        description="The publisher's own description, when a licensee loaded it."
    )

    @classmethod
    def fields_of(cls, framework: str, control: Control) -> dict[str, Any]:
        return {
            "framework": framework,
            "label": control.label,
            "oscal_id": control.oscal_id,
            "kind": control.kind,
            "level": control.level,
            "title": control.title,
            "description": control.description,
            "withdrawn": control.withdrawn,
            "properties": dict(control.properties or {}),
            "official_title": control.official_title,
            "official_description": control.official_description,
        }

    @classmethod
    def of(cls, framework: str, control: Control) -> ControlOut:
        return cls(**cls.fields_of(framework, control))


class TreeControlOut(ControlOut):
    """A control in a framework listing, in document order, with its parent's label."""

    parent: str | None = Field(description="Label of the parent control; null on the top level.")

    @classmethod
    def in_tree(cls, framework: str, control: Control, parent: str | None) -> TreeControlOut:
        return cls(**cls.fields_of(framework, control), parent=parent)


class ControlRef(BaseModel):
    """Another control named by a control's page: its parent or a child."""

    framework: str
    label: str
    kind: str
    title: str
    withdrawn: bool

    @classmethod
    def of(cls, framework: str, control: Control) -> ControlRef:
        return cls(
            framework=framework,
            label=control.label,
            kind=control.kind,
            title=control.title,
            withdrawn=control.withdrawn,
        )


class MappingOut(BaseModel):
    """A control at the other end of a crosswalk mapping."""

    framework: str = Field(examples=["nist-csf-2.0"])
    label: str = Field(examples=["ID.AM-01"])
    title: str
    relationship: Relationship = Field(
        description="How the mapping's source relates to its target (" + _RELATIONSHIP_TERMS + ")."
    )
    mapping_set: str = Field(description="Key of the crosswalk that holds the mapping.")

    @classmethod
    def of(cls, mapped: MappedControl) -> MappingOut:
        return cls(
            framework=mapped.framework,
            label=mapped.label,
            title=mapped.title,
            relationship=Relationship(mapped.relationship),
            mapping_set=mapped.mapping_set,
        )


class ControlDetailOut(ControlOut):
    """A control with its place in the tree, its baselines and its crosswalk mappings."""

    parent: ControlRef | None
    children: list[ControlRef]
    maps_to: list[MappingOut] = Field(
        description="Mappings from this control (the source) to controls of other frameworks."
    )
    mapped_from: list[MappingOut] = Field(
        description="Mappings from controls of other frameworks to this control (the target)."
    )
    baselines: list[str] = Field(description="Keys of the baselines that select this control.")

    @classmethod
    def of_detail(cls, detail: ControlDetail) -> ControlDetailOut:
        key = detail.framework.key
        return cls(
            **cls.fields_of(key, detail.control),
            parent=ControlRef.of(key, detail.parent) if detail.parent is not None else None,
            children=[ControlRef.of(key, child) for child in detail.children],
            maps_to=[MappingOut.of(m) for m in detail.mapped_to],
            mapped_from=[MappingOut.of(m) for m in detail.mapped_from],
            baselines=list(detail.baselines),
        )


class MapStepOut(BaseModel):
    """One mapping followed, read in the direction travelled."""

    from_framework: str
    from_label: str
    to_framework: str
    to_label: str
    to_title: str
    relationship: Relationship = Field(
        description="How the `from` control relates to the `to` control."
    )
    mapping_set: str

    @classmethod
    def of(cls, step: Step) -> MapStepOut:
        return cls(
            from_framework=step.from_framework,
            from_label=step.from_label,
            to_framework=step.to_framework,
            to_label=step.to_label,
            to_title=step.to_title,
            relationship=step.relationship,
            mapping_set=step.mapping_set,
        )


class MapPathOut(BaseModel):
    """A way from the control to one control of the other framework."""

    target: str = Field(description="Label of the control reached.")
    title: str
    relationship: Relationship = Field(
        description="What the whole path implies (anything uncertain composes to `related`)."
    )
    steps: list[MapStepOut]

    @classmethod
    def of(cls, path: MapPath) -> MapPathOut:
        return cls(
            target=path.target.to_label,
            title=path.target.to_title,
            relationship=path.relationship,
            steps=[MapStepOut.of(step) for step in path.steps],
        )


class MapOut(BaseModel):
    """Where a control lands in another framework: direct mappings, else two-hop paths."""

    framework: str = Field(examples=["cis-controls-v8.1"])
    control: str = Field(examples=["1.1"])
    to_framework: str = Field(examples=["nist-csf-2.0"])
    hops: int = Field(description="1 for direct mappings, 2 through a third framework, 0: none.")
    paths: list[MapPathOut]

    @classmethod
    def of(cls, result: MapResult) -> MapOut:
        return cls(
            framework=result.framework,
            control=result.label,
            to_framework=result.to_framework,
            hops=result.hops,
            paths=[MapPathOut.of(path) for path in result.paths],
        )
