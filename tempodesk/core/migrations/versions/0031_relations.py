"""ticket relations: tags (on tickets, the curated list, its policy) and links

Revision ID: 0031_relations
Revises: 0030_langs
Create Date: 2026-12-05 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_relations"
down_revision: str | None = "0030_langs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_tags",
        sa.Column("ticket_number", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("ticket_number", "tag", name=op.f("pk_ticket_tags")),
    )
    op.create_index("ix_ticket_tags_tag", "ticket_tags", ["tag", "ticket_number"])
    op.create_table(
        "ticket_links",
        sa.Column("ticket_number", sa.String(length=64), nullable=False),
        sa.Column("other_number", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("wait", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_number", "other_number", name=op.f("pk_ticket_links")),
    )
    op.create_table(
        "curated_tags",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_curated_tags")),
    )
    op.create_table(
        "tag_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("only_curated", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_policy")),
    )


def downgrade() -> None:
    op.drop_table("tag_policy")
    op.drop_table("curated_tags")
    op.drop_table("ticket_links")
    op.drop_index("ix_ticket_tags_tag", table_name="ticket_tags")
    op.drop_table("ticket_tags")
