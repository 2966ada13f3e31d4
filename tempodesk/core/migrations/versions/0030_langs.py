"""languages: a mailbox's language for new contacts

Revision ID: 0030_langs
Revises: 0029_teams
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_langs"
down_revision: str | None = "0029_teams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "mailboxes",
        sa.Column("language", sa.String(length=8), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        batch.drop_column("language")
