"""Stored host audits: a run on one asset of an organization, and one row per check result."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from assay.db.base import Base, UTCDateTime, utcnow


class Collector(enum.StrEnum):
    """Who collected a run: an auditor (independent collection) or the organization's own
    people and agents (operator-submitted)."""

    AUDITOR = "auditor"
    OPERATOR = "operator"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda c: [m.value for m in c])


class AuditRunRecord(Base):
    __tablename__ = "audit_runs"
    __table_args__ = (Index("ix_audit_runs_org_asset", "organization_id", "asset_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(300))  # local, root:/mnt/x, ssh:user@host:22
    collected_by: Mapped[Collector] = mapped_column(_enum(Collector))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    via: Mapped[str] = mapped_column(String(10))  # cli, api, web
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seconds: Mapped[float] = mapped_column(Float)
    checks: Mapped[int] = mapped_column(Integer)
    passed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    not_applicable: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))  # of the results, as the runner computes it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckResultRecord(Base):
    __tablename__ = "audit_results"
    __table_args__ = (UniqueConstraint("run_id", "check_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_runs.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    check_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16))
    observed: Mapped[str] = mapped_column(Text, default="")
    expected: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    locations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
