"""assets and asset identifiers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 03:11:11.372029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import assay.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            _enum(
                "assetkind",
                "host",
                "application",
                "cloud_account",
                "network_device",
                "data_store",
                "saas",
            ),
            nullable=False,
        ),
        sa.Column(
            "criticality", _enum("criticality", "low", "medium", "high", "critical"), nullable=False
        ),
        sa.Column("owner", sa.String(length=254), nullable=True),
        sa.Column(
            "data_classification",
            _enum("dataclassification", "public", "internal", "confidential", "restricted"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", assay.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", assay.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_assets_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_assets_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_assets_organization_id")),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index("ix_assets_org_kind", ["organization_id", "kind"], unique=False)
        batch_op.create_index(
            "ix_assets_org_criticality", ["organization_id", "criticality"], unique=False
        )

    op.create_table(
        "asset_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum("identifierkind", "hostname", "ip", "mac", "cloud_id", "fqdn", "url", "other"),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_asset_identifiers_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_asset_identifiers_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_identifiers")),
        sa.UniqueConstraint(
            "organization_id", "kind", "value", name=op.f("uq_asset_identifiers_organization_id")
        ),
    )
    with op.batch_alter_table("asset_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_identifiers_asset_id"), ["asset_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("asset_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_identifiers_asset_id"))
    op.drop_table("asset_identifiers")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_org_criticality")
        batch_op.drop_index("ix_assets_org_kind")
    op.drop_table("assets")
