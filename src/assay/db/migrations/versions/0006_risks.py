"""risk register: risks, the assets they affect, their controls and acceptances

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 03:20:11.152676
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import assay.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "risks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("threat_actor", sa.String(length=200), nullable=False),
        sa.Column("threat_event", sa.Text(), nullable=False),
        sa.Column("weakness", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=254), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column(
            "treatment",
            _enum("treatment", "mitigate", "accept", "transfer", "avoid"),
            nullable=True,
        ),
        sa.Column(
            "status",
            _enum(
                "riskstatus", "open", "mitigating", "accepted", "transferred", "avoided", "closed"
            ),
            nullable=False,
        ),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("inherent_likelihood", sa.Integer(), nullable=False),
        sa.Column("inherent_impact", sa.Integer(), nullable=False),
        sa.Column("residual_likelihood", sa.Integer(), nullable=True),
        sa.Column("residual_impact", sa.Integer(), nullable=True),
        sa.Column("fair", sa.JSON(), nullable=True),
        sa.Column("tolerance", sa.Float(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", assay.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", assay.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "inherent_impact IS NULL OR (inherent_impact >= 1 AND inherent_impact <= 5)",
            name=op.f("ck_risks_inherent_impact"),
        ),
        sa.CheckConstraint(
            "inherent_likelihood IS NULL OR (inherent_likelihood >= 1 AND inherent_likelihood <= 5)",
            name=op.f("ck_risks_inherent_likelihood"),
        ),
        sa.CheckConstraint(
            "residual_impact IS NULL OR (residual_impact >= 1 AND residual_impact <= 5)",
            name=op.f("ck_risks_residual_impact"),
        ),
        sa.CheckConstraint(
            "residual_likelihood IS NULL OR (residual_likelihood >= 1 AND residual_likelihood <= 5)",
            name=op.f("ck_risks_residual_likelihood"),
        ),
        sa.CheckConstraint("tolerance IS NULL OR tolerance >= 0", name=op.f("ck_risks_tolerance")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_risks_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_risks_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_risks_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risks")),
    )
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.create_index("ix_risks_org_status", ["organization_id", "status"], unique=False)

    op.create_table(
        "risk_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("risk_id", sa.Integer(), nullable=False),
        sa.Column("accepted_by_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", assay.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", assay.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "ended_reason",
            _enum("acceptanceend", "expired", "revoked", "superseded"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"], ["users.id"], name=op.f("fk_risk_acceptances_accepted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_risk_acceptances_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["risk_id"],
            ["risks.id"],
            name=op.f("fk_risk_acceptances_risk_id_risks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_acceptances")),
    )
    with op.batch_alter_table("risk_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_risk_acceptances_org_expiry", ["organization_id", "expires_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_risk_acceptances_risk_id"), ["risk_id"], unique=False)

    op.create_table(
        "risk_assets",
        sa.Column("risk_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_risk_assets_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_risk_assets_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["risk_id"], ["risks.id"], name=op.f("fk_risk_assets_risk_id_risks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("risk_id", "asset_id", name=op.f("pk_risk_assets")),
    )
    with op.batch_alter_table("risk_assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_assets_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_risk_assets_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "risk_controls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("risk_id", sa.Integer(), nullable=False),
        sa.Column("control_id", sa.Integer(), nullable=False),
        sa.Column("effect", _enum("effecttarget", "tef", "vulnerability", "lm"), nullable=False),
        sa.Column("reduction_min", sa.Float(), nullable=False),
        sa.Column("reduction_mode", sa.Float(), nullable=False),
        sa.Column("reduction_max", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "reduction_min >= 0 AND reduction_min <= reduction_mode AND reduction_mode <= reduction_max AND reduction_max <= 1",
            name=op.f("ck_risk_controls_reduction_range"),
        ),
        sa.ForeignKeyConstraint(
            ["control_id"], ["controls.id"], name=op.f("fk_risk_controls_control_id_controls")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_risk_controls_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["risk_id"],
            ["risks.id"],
            name=op.f("fk_risk_controls_risk_id_risks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_controls")),
        sa.UniqueConstraint(
            "risk_id", "control_id", "effect", name=op.f("uq_risk_controls_risk_id")
        ),
    )
    with op.batch_alter_table("risk_controls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_controls_control_id"), ["control_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_risk_controls_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_controls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_controls_organization_id"))
        batch_op.drop_index(batch_op.f("ix_risk_controls_control_id"))

    op.drop_table("risk_controls")
    with op.batch_alter_table("risk_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_assets_organization_id"))
        batch_op.drop_index(batch_op.f("ix_risk_assets_asset_id"))

    op.drop_table("risk_assets")
    with op.batch_alter_table("risk_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_acceptances_risk_id"))
        batch_op.drop_index("ix_risk_acceptances_org_expiry")

    op.drop_table("risk_acceptances")
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.drop_index("ix_risks_org_status")

    op.drop_table("risks")
