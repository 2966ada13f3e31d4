"""pending starts: accepted tickets whose workflow is not confirmed started yet

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_starts",
        sa.Column("ticket_number", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_number", name=op.f("pk_pending_starts")),
    )
    with op.batch_alter_table("pending_starts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_starts_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_starts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_starts_created_at"))
    op.drop_table("pending_starts")
