"""Tables of assets and their identifiers. Every row carries its organization id."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assay.db.base import Base, UTCDateTime, utcnow


class AssetKind(enum.StrEnum):
    HOST = "host"
    APPLICATION = "application"
    CLOUD_ACCOUNT = "cloud_account"
    NETWORK_DEVICE = "network_device"
    DATA_STORE = "data_store"
    SAAS = "saas"


class Criticality(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class DataClassification(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


class IdentifierKind(enum.StrEnum):
    HOSTNAME = "hostname"
    IP = "ip"
    MAC = "mac"
    CLOUD_ID = "cloud_id"
    FQDN = "fqdn"
    URL = "url"
    OTHER = "other"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda c: [m.value for m in c])


class Asset(Base):
    """One thing worth protecting. The name is unique within its organization."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("organization_id", "name"),
        Index("ix_assets_org_kind", "organization_id", "kind"),
        Index("ix_assets_org_criticality", "organization_id", "criticality"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed by the unique constraint (organization_id, name)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AssetKind] = mapped_column(_enum(AssetKind))
    criticality: Mapped[Criticality] = mapped_column(_enum(Criticality))
    owner: Mapped[str | None] = mapped_column(String(254))
    data_classification: Mapped[DataClassification] = mapped_column(_enum(DataClassification))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    identifiers: Mapped[list[AssetIdentifier]] = relationship(
        back_populates="asset",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
        order_by="(AssetIdentifier.kind, AssetIdentifier.value)",
    )


class AssetIdentifier(Base):
    """A name by which systems report an asset (hostname, address, cloud id...), normalized so
    that one value always maps to one asset of the organization."""

    __tablename__ = "asset_identifiers"
    __table_args__ = (UniqueConstraint("organization_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    # indexed by the unique constraint (organization_id, kind, value)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[IdentifierKind] = mapped_column(_enum(IdentifierKind))
    value: Mapped[str] = mapped_column(String(500))

    asset: Mapped[Asset] = relationship(back_populates="identifiers")
