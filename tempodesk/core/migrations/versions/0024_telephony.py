"""telephony: agents' extensions and communication records (calls, letters, appointments)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("extension", sa.String(length=32), nullable=True))
        batch.create_unique_constraint("uq_users_extension", ["extension"])
    op.create_table(
        "comm_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("ticket_number", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("extension", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("call_key", sa.String(length=150), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("outcome_seq", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("converted_ticket", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_comm_records_contact_id_contacts",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_comm_records"),
        sa.UniqueConstraint("call_key", name="uq_comm_records_call_key"),
    )
    for column in ("contact_id", "ticket_number", "agent", "at"):
        op.create_index(f"ix_comm_records_{column}", "comm_records", [column], unique=False)
    _phones_to_e164()


def _phones_to_e164() -> None:
    """Contacts' numbers as every new one is stored (E.164, ``people.addresses``); a number
    that cannot be read stays as it was."""
    from tempodesk.people.addresses import normalize_phone

    contacts = sa.table("contacts", sa.column("id", sa.Integer), sa.column("phone", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(contacts.c.id, contacts.c.phone).where(contacts.c.phone != ""))
    for contact_id, phone in list(rows):
        e164 = normalize_phone(phone)
        if e164 and e164 != phone and len(e164) <= 32:
            bind.execute(contacts.update().where(contacts.c.id == contact_id).values(phone=e164))


def downgrade() -> None:
    op.drop_table("comm_records")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_extension", type_="unique")
        batch.drop_column("extension")
