"""acknowledgement claims: one acknowledgement per address per day, claimed atomically

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acknowledgement_claims",
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("ticket_number", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient", name=op.f("pk_acknowledgement_claims")),
    )
    # The acknowledgements sent before this table existed still count for their day.
    op.execute(
        "INSERT INTO acknowledgement_claims (recipient, ticket_number, claimed_at) "
        "SELECT recipient, MAX(ticket_number), MAX(sent_at) FROM auto_mail_log "
        "WHERE kind = 'auto-replied' GROUP BY recipient"
    )


def downgrade() -> None:
    op.drop_table("acknowledgement_claims")
