"""mail preferences: a contact may refuse non-essential mail; templates say whether they are
essential

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "contacts",
        sa.Column("non_essential_mail", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column(
        "message_templates",
        sa.Column("essential", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("message_templates", "essential")
    op.drop_column("contacts", "non_essential_mail")
