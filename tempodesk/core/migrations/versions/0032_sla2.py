"""sla2: customer types, contracts, entitlements and their uses; time spent on tickets

Revision ID: 0032_sla2
Revises: 0031_relations
Create Date: 2026-12-05 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_sla2"
down_revision: str | None = "0031_relations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_types")),
        sa.UniqueConstraint("name", name=op.f("uq_customer_types_name")),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contracts_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_contracts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_contracts_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("reference", name=op.f("uq_contracts_reference")),
    )
    op.create_index(op.f("ix_contracts_contact_id"), "contracts", ["contact_id"])
    op.create_index(op.f("ix_contracts_organisation_id"), "contracts", ["organisation_id"])
    op.create_table(
        "entitlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("allocation", sa.Integer(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("counts_on", sa.String(length=8), nullable=False),
        sa.Column("on_exhausted", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_entitlements_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlements")),
    )
    op.create_index(op.f("ix_entitlements_contract_id"), "entitlements", ["contract_id"])
    op.create_table(
        "entitlement_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(length=64), nullable=False),
        sa.Column("entitlement_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["entitlements.id"],
            name=op.f("fk_entitlement_uses_entitlement_id_entitlements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlement_uses")),
        sa.UniqueConstraint(
            "ticket_number",
            "entitlement_id",
            name=op.f("uq_entitlement_uses_ticket_number"),
        ),
    )
    op.create_index(
        op.f("ix_entitlement_uses_entitlement_id"), "entitlement_uses", ["entitlement_id"]
    )
    # Plain ADD COLUMN, not a batch (a batch on SQLite copies the table and loses triggers).
    op.add_column("contacts", sa.Column("customer_type", sa.String(length=40), nullable=True))
    op.add_column(
        "organisations", sa.Column("customer_type", sa.String(length=40), nullable=True)
    )
    op.add_column(
        "tickets", sa.Column("time_spent", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("tickets", "time_spent")
    op.drop_column("organisations", "customer_type")
    op.drop_column("contacts", "customer_type")
    op.drop_table("entitlement_uses")
    op.drop_table("entitlements")
    op.drop_table("contracts")
    op.drop_table("customer_types")
