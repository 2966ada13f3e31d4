"""ticket relations: a merged ticket's pointer to the ticket that took its messages

Revision ID: 0027
Revises: 0020
Create Date: 2026-12-05 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("merged_into", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_tickets_merged_into"), "tickets", ["merged_into"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_merged_into"), table_name="tickets")
    op.drop_column("tickets", "merged_into")
