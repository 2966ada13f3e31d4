"""SMS: the gateway (one row, its secret sealed) and what an SMS message keeps about its
sending (the provider's id, attempts without a clear answer, the "may have gone twice" flag)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_gateways")),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("provider_message_id", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("send_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("delivery_ambiguous", sa.Boolean(), server_default="0", nullable=False)
        )
        batch.create_index(
            "ix_messages_provider_message_id", ["provider_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_provider_message_id")
        batch.drop_column("delivery_ambiguous")
        batch.drop_column("send_attempts")
        batch.drop_column("provider_message_id")
    op.drop_table("sms_gateways")
