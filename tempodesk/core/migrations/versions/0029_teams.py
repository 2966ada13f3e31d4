"""teams and roles: roles (named sets of rights) for users and groups, a group's parent group;
the admin flag becomes the role "admin", every other user gets the role "agent", and the
group "Customers" (whose name carried the customers right) gets a role carrying it

Revision ID: 0029_teams
Revises: 0027
Create Date: 2026-12-05 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_teams"
down_revision: str | None = "0028_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL = ["act", "see_all_queues", "manage_customers", "view_reports", "delete_tickets", "admin"]
SHIPPED = {
    "agent": ("Works tickets: sees their groups' queues and acts on them.", ["act"]),
    "supervisor": ("An agent who also reads their groups' reports.", ["act", "view_reports"]),
    "admin": ("Every right: the admin area, every ticket, every customer.", ALL),
    "read-only": ("Reads the tickets their groups may see; performs no action.", []),
}
CUSTOMERS_ROLE = ("customers", "Sees every contact, organisation and order.", ["manage_customers"])


def upgrade() -> None:
    roles = op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_user_roles_role_id_roles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "group_roles",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_roles_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_group_roles_role_id_roles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "role_id", name=op.f("pk_group_roles")),
    )
    with op.batch_alter_table("groups") as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_groups_parent_id_groups"),
            "groups",
            ["parent_id"],
            ["id"],
            ondelete="SET NULL",
        )
    rows = [
        {"name": n, "description": d, "rights": r, "builtin": True} for n, (d, r) in SHIPPED.items()
    ]
    name, description, rights = CUSTOMERS_ROLE
    rows.append({"name": name, "description": description, "rights": rights, "builtin": False})
    op.bulk_insert(roles, rows)
    _give_roles()
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("is_admin")


def _give_roles() -> None:
    """Admins get "admin", everybody else "agent"; the group Customers gets "customers"."""
    bind = op.get_bind()
    ids: dict[str, int] = {n: i for n, i in bind.execute(sa.text("SELECT name, id FROM roles"))}
    bind.execute(
        sa.text(
            "INSERT INTO user_roles (user_id, role_id) "
            "SELECT id, CASE WHEN is_admin THEN :admin ELSE :agent END FROM users"
        ),
        {"admin": ids["admin"], "agent": ids["agent"]},
    )
    bind.execute(
        sa.text(
            "INSERT INTO group_roles (group_id, role_id) "
            "SELECT id, :role FROM groups WHERE name = 'Customers'"
        ),
        {"role": ids["customers"]},
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE users SET is_admin = TRUE WHERE id IN (SELECT user_id FROM user_roles "
            "JOIN roles ON roles.id = user_roles.role_id WHERE roles.name = 'admin')"
        )
    )
    with op.batch_alter_table("groups") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_groups_parent_id_groups"), type_="foreignkey")
        batch_op.drop_column("parent_id")
    op.drop_table("group_roles")
    op.drop_table("user_roles")
    op.drop_table("roles")
