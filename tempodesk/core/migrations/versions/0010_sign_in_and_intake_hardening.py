"""sign-in and intake hardening: request fingerprints on idempotency keys, TOTP secrets

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The hash of the request that used a message's idempotency key: the same key with
    # another request is refused instead of answering with the first one's result.
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))
    # An admin's second factor (sealed with the app's secret); empty: none.
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("totp_secret", sa.String(length=255), nullable=False, server_default="")
        )
        # The time step of the last code that signed in: a code signs in once.
        batch_op.add_column(
            sa.Column("totp_last_step", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("request_fingerprint")
