"""smtp alerts: an SMTP server refusing our login, sender or connection, shown on /healthz

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "smtp_alerts",
        sa.Column("server", sa.String(length=300), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("server", name=op.f("pk_smtp_alerts")),
    )


def downgrade() -> None:
    op.drop_table("smtp_alerts")
