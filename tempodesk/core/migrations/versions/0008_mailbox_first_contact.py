"""mailboxes: first contact and the re-scan after a UIDVALIDITY change

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch_op:
        batch_op.add_column(
            sa.Column("first_contact_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("rescan_below", sa.BigInteger(), server_default="0", nullable=False)
        )
    # Mailboxes contacted before this column existed: the first mail stored from them is the
    # best lower bound we have (nothing older was read), else their last poll.
    op.execute(
        "UPDATE mailboxes SET first_contact_at = COALESCE("
        "(SELECT MIN(inbound_messages.received_at) FROM inbound_messages "
        " JOIN channels ON channels.name = inbound_messages.mailbox "
        " WHERE channels.id = mailboxes.channel_id AND inbound_messages.source = 'imap'), "
        "last_poll_at) WHERE uidvalidity IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch_op:
        batch_op.drop_column("rescan_below")
        batch_op.drop_column("first_contact_at")
