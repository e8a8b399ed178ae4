"""Tables of frameworks, their controls and baselines, and crosswalks between controls.

Catalogs are shared by the whole installation (they are published standards, not client data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assay.db.base import Base, UTCDateTime, utcnow


class Framework(Base):
    __tablename__ = "frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    content_version: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))  # builtin, yaml, oscal
    publisher: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    notice: Mapped[str] = mapped_column(Text, default="")
    levels: Mapped[list[str]] = mapped_column(JSON)
    assessable: Mapped[list[int]] = mapped_column(JSON, default=list)  # level numbers answered
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Control(Base):
    """One node of a framework tree. `label` is the official identifier (GV.OC-01, AC-2(1))."""

    __tablename__ = "controls"
    __table_args__ = (
        UniqueConstraint("framework_id", "label"),
        Index("ix_controls_framework_parent", "framework_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("controls.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(64))
    oscal_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(63))
    level: Mapped[int] = mapped_column(Integer)  # 1 = top level
    position: Mapped[int] = mapped_column(Integer)  # document order within the framework
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    official_title: Mapped[str | None] = mapped_column(String(500))
    official_description: Mapped[str | None] = mapped_column(Text)


class ControlAncestor(Base):
    """Closure of the control tree: every (control, ancestor) pair, the control itself at depth 0,
    so scores roll up to any level with one GROUP BY."""

    __tablename__ = "control_ancestors"

    control_id: Mapped[int] = mapped_column(
        ForeignKey("controls.id", ondelete="CASCADE"), primary_key=True
    )
    ancestor_id: Mapped[int] = mapped_column(
        ForeignKey("controls.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    depth: Mapped[int] = mapped_column(Integer)


class Baseline(Base):
    __tablename__ = "baselines"
    __table_args__ = (UniqueConstraint("framework_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))


class BaselineControl(Base):
    __tablename__ = "baseline_controls"

    baseline_id: Mapped[int] = mapped_column(
        ForeignKey("baselines.id", ondelete="CASCADE"), primary_key=True
    )
    control_id: Mapped[int] = mapped_column(
        ForeignKey("controls.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MappingSet(Base):
    """A crosswalk from one framework to another."""

    __tablename__ = "mapping_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    content_version: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))
    notice: Mapped[str] = mapped_column(Text, default="")
    source_framework_id: Mapped[int] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE")
    )
    target_framework_id: Mapped[int] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE")
    )
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Mapping(Base):
    __tablename__ = "mappings"
    __table_args__ = (UniqueConstraint("mapping_set_id", "source_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mapping_set_id: Mapped[int] = mapped_column(ForeignKey("mapping_sets.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(
        ForeignKey("controls.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("controls.id", ondelete="CASCADE"), index=True
    )
    relationship: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
