"""Tables of the risk register: risks, the assets they affect, the controls that reduce them and
their acceptances. Every row carries its organization id."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
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


class Treatment(enum.StrEnum):
    MITIGATE = "mitigate"
    ACCEPT = "accept"
    TRANSFER = "transfer"
    AVOID = "avoid"


class RiskStatus(enum.StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    ACCEPTED = "accepted"  # only through an acceptance (risk.accept), never set directly
    TRANSFERRED = "transferred"
    AVOIDED = "avoided"
    CLOSED = "closed"


class EffectTarget(enum.StrEnum):
    """The FAIR factor a control reduces."""

    TEF = "tef"  # threat event frequency (or the loss event frequency when given directly)
    VULNERABILITY = "vulnerability"
    LM = "lm"  # loss magnitude (primary and secondary)


class AcceptanceEnd(enum.StrEnum):
    EXPIRED = "expired"
    REVOKED = "revoked"  # the risk left the accepted status
    SUPERSEDED = "superseded"  # accepted again


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda c: [m.value for m in c])


def _step(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} IS NULL OR ({column} >= 1 AND {column} <= 5)", name=column)


class Risk(Base):
    """One risk scenario of a client organization: a threat (actor and event) exploiting a
    weakness, its qualitative levels, its FAIR estimates and what is done about it."""

    __tablename__ = "risks"
    __table_args__ = (
        Index("ix_risks_org_status", "organization_id", "status"),
        _step("inherent_likelihood"),
        _step("inherent_impact"),
        _step("residual_likelihood"),
        _step("residual_impact"),
        CheckConstraint("tolerance IS NULL OR tolerance >= 0", name="tolerance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed by ix_risks_org_status
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(200))
    threat_actor: Mapped[str] = mapped_column(String(200), default="")
    threat_event: Mapped[str] = mapped_column(Text, default="")
    weakness: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # the owner: a user (owner_id, owner holding their email) or free text (owner only)
    owner: Mapped[str | None] = mapped_column(String(254))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    treatment: Mapped[Treatment | None] = mapped_column(_enum(Treatment))
    status: Mapped[RiskStatus] = mapped_column(_enum(RiskStatus))
    due_on: Mapped[date | None] = mapped_column(Date)
    inherent_likelihood: Mapped[int] = mapped_column(Integer)
    inherent_impact: Mapped[int] = mapped_column(Integer)
    residual_likelihood: Mapped[int | None] = mapped_column(Integer)
    residual_impact: Mapped[int | None] = mapped_column(Integer)
    # FAIR estimates as `Scenario.to_dict()` (factor -> estimate), None for a qualitative risk
    fair: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    tolerance: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RiskAsset(Base):
    """An asset a risk affects (same organization)."""

    __tablename__ = "risk_assets"

    risk_id: Mapped[int] = mapped_column(
        ForeignKey("risks.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)


class RiskControl(Base):
    """A catalog control (a CIS safeguard, a CSF subcategory...) that reduces one FAIR factor
    of a risk by a fraction between `reduction_min` and `reduction_max` (most likely
    `reduction_mode`), once implemented."""

    __tablename__ = "risk_controls"
    __table_args__ = (
        UniqueConstraint("risk_id", "control_id", "effect"),
        CheckConstraint(
            "reduction_min >= 0 AND reduction_min <= reduction_mode "
            "AND reduction_mode <= reduction_max AND reduction_max <= 1",
            name="reduction_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # indexed by the unique constraint (risk_id, control_id, effect)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"))
    control_id: Mapped[int] = mapped_column(ForeignKey("controls.id"), index=True)
    effect: Mapped[EffectTarget] = mapped_column(_enum(EffectTarget))
    reduction_min: Mapped[float] = mapped_column(Float)
    reduction_mode: Mapped[float] = mapped_column(Float)
    reduction_max: Mapped[float] = mapped_column(Float)


class RiskAcceptance(Base):
    """A decision to live with a risk until `expires_on`, by an executive of the client or an
    administrator. It ends when it expires, is superseded or the risk leaves `accepted`."""

    __tablename__ = "risk_acceptances"
    __table_args__ = (Index("ix_risk_acceptances_org_expiry", "organization_id", "expires_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed by ix_risk_acceptances_org_expiry
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    accepted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[AcceptanceEnd | None] = mapped_column(_enum(AcceptanceEnd))
