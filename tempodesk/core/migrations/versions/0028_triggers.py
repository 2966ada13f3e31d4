"""idle and outgoing triggers: an idle trigger's business hours and its calendar

Revision ID: 0028_triggers
Revises: 0027
Create Date: 2026-12-05 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_triggers"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("triggers") as batch_op:
        batch_op.add_column(sa.Column("hours", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("calendar", sa.String(length=100), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("triggers") as batch_op:
        batch_op.drop_column("calendar")
        batch_op.drop_column("hours")
