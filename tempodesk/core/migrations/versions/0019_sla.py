"""sla: business-hours calendars, SLA policies, and each ticket's SLA block in the projection

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_calendars_name")),
    )
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("first_response", sa.String(length=16), nullable=True),
        sa.Column("next_response", sa.String(length=16), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.Column("on_warning", sa.JSON(), nullable=False),
        sa.Column("on_breach", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["calendars.id"],
            name=op.f("fk_sla_policies_calendar_id_calendars"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    # Plain ADD COLUMN, not a batch: on SQLite a batch copies the table and loses the
    # full-text search triggers of 0004.
    op.add_column("tickets", sa.Column("sla", sa.JSON(), nullable=True))
    op.add_column("tickets", sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "tickets",
        sa.Column("sla_breached", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(op.f("ix_tickets_sla_due_at"), "tickets", ["sla_due_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_sla_due_at"), "tickets")
    for column in ("sla_breached", "sla_due_at", "sla"):
        op.drop_column("tickets", column)
    op.drop_table("sla_policies")
    op.drop_table("calendars")
