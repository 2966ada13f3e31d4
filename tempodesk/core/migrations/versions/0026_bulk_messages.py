"""bulk messages to a segment of contacts, each recipient once

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_messages")),
    )
    op.create_table(
        "bulk_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulk_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bulk_id"],
            ["bulk_messages.id"],
            name=op.f("fk_bulk_recipients_bulk_id_bulk_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_bulk_recipients_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_recipients")),
        sa.UniqueConstraint("bulk_id", "contact_id", name=op.f("uq_bulk_recipients_bulk_id")),
    )
    op.create_index(
        "ix_bulk_recipients_waiting", "bulk_recipients", ["bulk_id", "status", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_bulk_recipients_waiting", table_name="bulk_recipients")
    op.drop_table("bulk_recipients")
    op.drop_table("bulk_messages")
