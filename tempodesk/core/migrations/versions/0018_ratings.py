"""satisfaction ratings: a ticket keeps its latest rating and who was asked about; a table of
ratings per answer for the agents' figures

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("rating_asked_seq", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("rating_agent", sa.String(length=64), nullable=True))
    op.add_column("tickets", sa.Column("rating_score", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "ticket_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(length=64), nullable=False),
        sa.Column("asked_seq", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment_message_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_message_id"],
            ["messages.id"],
            name=op.f("fk_ticket_ratings_comment_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_ratings")),
        sa.UniqueConstraint(
            "ticket_number", "asked_seq", name=op.f("uq_ticket_ratings_ticket_number")
        ),
    )
    op.create_index("ix_ticket_ratings_agent", "ticket_ratings", ["agent"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_ratings_agent", table_name="ticket_ratings")
    op.drop_table("ticket_ratings")
    op.drop_column("tickets", "rated_at")
    op.drop_column("tickets", "rating_score")
    op.drop_column("tickets", "rating_agent")
    op.drop_column("tickets", "rating_asked_seq")
