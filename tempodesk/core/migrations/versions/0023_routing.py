"""routing: rules, groups' strategies, agents' availability and skills

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 07:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("stop", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    op.create_table(
        "group_routing",
        sa.Column("group_name", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("max_open", sa.Integer(), nullable=False),
        sa.Column("reroute_minutes", sa.Integer(), nullable=False),
        sa.Column("rr_last", sa.String(length=64), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_name"],
            ["groups.name"],
            name=op.f("fk_group_routing_group_name_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_name", name=op.f("pk_group_routing")),
    )
    op.create_table(
        "agent_routing",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("availability", sa.String(length=8), nullable=False),
        sa.Column("calendar", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"],
            ["users.username"],
            name=op.f("fk_agent_routing_username_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_agent_routing")),
    )
    op.create_table(
        "agent_skills",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"],
            ["users.username"],
            name=op.f("fk_agent_skills_username_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("username", "skill", name=op.f("pk_agent_skills")),
    )


def downgrade() -> None:
    op.drop_table("agent_skills")
    op.drop_table("agent_routing")
    op.drop_table("group_routing")
    op.drop_table("routing_rules")
