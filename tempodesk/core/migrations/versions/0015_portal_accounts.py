"""portal accounts: a contact may set a portal password; an organisation may let its members
see each other's requests in the portal

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "contacts",
        sa.Column("password_hash", sa.String(length=255), server_default="", nullable=False),
    )
    op.add_column(
        "organisations",
        sa.Column("portal_shared", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("organisations", "portal_shared")
    op.drop_column("contacts", "password_hash")
