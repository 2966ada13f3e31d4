"""reports: when a ticket was resolved and first answered (kept by the projection; filled for
existing tickets: resolved from their last change, answered from their messages), and the
indexes the reports read by

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



def upgrade() -> None:
    op.add_column("tickets", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
    # Tickets resolved before: their last change is the best answer the projection has.
    op.execute(
        "UPDATE tickets SET resolved_at = updated_at "
        "WHERE state_category IN ('resolved', 'closed')"
    )
    op.add_column(
        "tickets", sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE tickets SET first_response_at = (SELECT min(m.created_at) FROM messages m "
        "WHERE m.ticket_number = tickets.number AND m.sender_role = 'agent' "
        "AND m.internal = false AND m.attached = true)"
    )
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"], unique=False)
    op.create_index("ix_tickets_resolved_at", "tickets", ["resolved_at"], unique=False)
    op.create_index("ix_ticket_ratings_rated_at", "ticket_ratings", ["rated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_ratings_rated_at", table_name="ticket_ratings")
    op.drop_index("ix_tickets_resolved_at", table_name="tickets")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_column("tickets", "first_response_at")
    op.drop_column("tickets", "resolved_at")
