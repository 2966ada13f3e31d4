"""web forms per site: a form is a channel with its own fields, language, confirmation,
embedding origins, attachment limits and spam rules; a ticket remembers its form

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=48), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("intro", sa.String(length=2000), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("confirmation", sa.String(length=2000), nullable=False),
        sa.Column("embed_origins", sa.String(length=2000), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("ask_order", sa.Boolean(), nullable=False),
        sa.Column("max_attachment_bytes", sa.Integer(), nullable=False),
        sa.Column("attachment_types", sa.String(length=500), nullable=False),
        sa.Column("max_links", sa.Integer(), nullable=False),
        sa.Column("blocked_words", sa.String(length=4000), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id"),
        sa.UniqueConstraint("slug"),
    )
    op.add_column("tickets", sa.Column("form", sa.String(length=48), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "form")
    op.drop_table("web_forms")
