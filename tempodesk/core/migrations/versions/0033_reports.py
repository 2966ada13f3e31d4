"""reports: the two period indexes of the reports cover what the reports read (the
breakdown and filter columns and the other end of the duration), so a year of tickets is
read from the index alone instead of the wide ticket rows

Revision ID: 0033_reports
Revises: 0032_sla2
Create Date: 2026-12-05 10:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033_reports"
down_revision: str | None = "0032_sla2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ticket's columns a report filters and breaks down by (tempodesk/reports/queries.py).
BREAKDOWN = ["channel", "process_name", "group_name", "assignee"]


def upgrade() -> None:
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.create_index(
        "ix_tickets_created_at", "tickets", ["created_at", *BREAKDOWN, "first_response_at"]
    )
    op.drop_index("ix_tickets_resolved_at", table_name="tickets")
    op.create_index("ix_tickets_resolved_at", "tickets", ["resolved_at", *BREAKDOWN, "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_resolved_at", table_name="tickets")
    op.create_index("ix_tickets_resolved_at", "tickets", ["resolved_at"])
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
