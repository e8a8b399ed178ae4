"""Tables of assessments, answers, evidence and verifications. Every row carries its org id."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from assay.db.base import Base, UTCDateTime, utcnow


class AssessmentState(enum.StrEnum):
    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    CLOSED = "closed"


class Status(enum.StrEnum):
    """How far a control is implemented (see docs/scoring.md for the values)."""

    NOT_IMPLEMENTED = "not_implemented"
    PARTIALLY = "partially"
    LARGELY = "largely"
    FULLY = "fully"
    NOT_APPLICABLE = "not_applicable"


class AnswerState(enum.StrEnum):
    CLAIMED = "claimed"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Independence(enum.StrEnum):
    INTERNAL = "internal"  # an auditor of the same organization, not the one who did the work
    EXTERNAL = "external"  # a member of an auditor firm granted access


class EvidenceKind(enum.StrEnum):
    FILE = "file"
    LINK = "link"
    AUDIT_RESULT = "audit_result"
    FINDING = "finding"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda c: [m.value for m in c])


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_org_state", "organization_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"))
    baseline_id: Mapped[int | None] = mapped_column(ForeignKey("baselines.id"))
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[AssessmentState] = mapped_column(_enum(AssessmentState))
    target_ig: Mapped[int | None] = mapped_column(Integer)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TargetMaturity(Base):
    """The target profile: the maturity an assessment aims for, per control."""

    __tablename__ = "target_maturities"

    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    control_id: Mapped[int] = mapped_column(ForeignKey("controls.id"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    target: Mapped[int] = mapped_column(Integer)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("assessment_id", "control_id"),
        CheckConstraint("maturity IS NULL OR (maturity >= 0 AND maturity <= 5)", name="maturity"),
        Index("ix_answers_org_state", "organization_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    control_id: Mapped[int] = mapped_column(ForeignKey("controls.id"), index=True)
    status: Mapped[Status] = mapped_column(_enum(Status))
    maturity: Mapped[int | None] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    implemented_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contributor_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # everyone who set it
    state: Mapped[AnswerState] = mapped_column(_enum(AnswerState))
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Verification(Base):
    """An auditor's verdict on an answer, with a snapshot of what was verified."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    verifier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[AnswerState] = mapped_column(_enum(AnswerState))
    comment: Mapped[str] = mapped_column(Text, default="")
    independence: Mapped[Independence] = mapped_column(_enum(Independence))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invalidated_reason: Mapped[str | None] = mapped_column(Text)


class Evidence(Base):
    """A file (stored by SHA-256 in the data directory), a link, or an automated result."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(_enum(EvidenceKind))
    title: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(2000))
    collected_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Automated evidence: the host audit run it stands for, and who collected it ("auditor":
    # an auditor ran it, which does not make them a supplier of evidence; "operator": the
    # organization's own people or agents did).
    audit_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_runs.id", ondelete="CASCADE"), index=True
    )
    collected_by: Mapped[str | None] = mapped_column(String(20))


class AnswerEvidence(Base):
    __tablename__ = "answer_evidence"

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True
    )
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
