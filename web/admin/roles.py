"""Admin pages for roles: named sets of rights given to users and groups (``/admin/roles``).

The rules (names, rights, what may not be deleted) live in ``tempodesk.people.roles``; every
change is audited with the role's rights before and after.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from statemachines.rights import RIGHTS
from tempodesk.core.audit import snapshot
from tempodesk.core.models import GroupRole, UserRole
from tempodesk.people import roles
from tempodesk.people.common import AccountInvalid
from tempodesk.people.roles import RoleData
from web import audit, db
from web.admin import bp
from web.i18n import RIGHT_LABELS, translate_message
from web.i18n import gettext as _

ROLE_FIELDS = ("name", "description", "rights")


def _data() -> RoleData:
    """Only these fields of the form are read."""
    return RoleData(
        description=request.form.get("description", ""),
        rights=[r for r in request.form.getlist("rights") if r],
    )


def _page(template: str, status: int = 200, **values: Any) -> Any:
    return render_template(template, rights=RIGHTS, right_labels=RIGHT_LABELS, **values), status


@bp.route("/roles", methods=["GET", "POST"])
def roles_list() -> Any:
    session = db()
    name, data, errors = "", RoleData(), {}
    if request.method == "POST":
        name, data = request.form.get("name", "").strip(), _data()
        try:
            role = roles.create_role(session, name, data)
        except AccountInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            after = snapshot(role, ROLE_FIELDS)
            audit.record("role.create", object_type="role", object_id=role.name, after=after)
            session.commit()
            flash(_("The role '%(name)s' is created.", name=role.name), "success")
            return redirect(url_for("admin.roles_list"))
    users = dict(
        session.execute(select(UserRole.role_id, func.count()).group_by(UserRole.role_id)).all()
    )
    groups = dict(
        session.execute(select(GroupRole.role_id, func.count()).group_by(GroupRole.role_id)).all()
    )
    return _page(
        "admin/users/roles.html",
        422 if errors else 200,
        roles=roles.all_roles(session),
        users=users,
        groups=groups,
        name=name,
        data=data,
        errors=errors,
    )


@bp.route("/roles/<name>", methods=["GET", "POST"])
def role_edit(name: str) -> Any:
    session = db()
    role = roles.get_role(session, name)
    if role is None:
        abort(404)
    data, errors = RoleData(role.description, list(role.rights or [])), {}
    if request.method == "POST":
        data = _data()
        before = snapshot(role, ROLE_FIELDS)
        try:
            roles.update_role(session, role, data, acting=current_user)
        except AccountInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            after = snapshot(role, ROLE_FIELDS)
            audit.record(
                "role.update", object_type="role", object_id=name, before=before, after=after
            )
            session.commit()
            flash(_("The role '%(name)s' is saved.", name=name), "success")
            return redirect(url_for("admin.roles_list"))
    return _page(
        "admin/users/role.html", 422 if errors else 200, role=role, data=data, errors=errors
    )


@bp.route("/roles/<name>/delete", methods=["POST"])
def role_delete(name: str) -> Any:
    session = db()
    role = roles.get_role(session, name)
    if role is None:
        abort(404)
    before = snapshot(role, ROLE_FIELDS)
    try:
        roles.delete_role(session, role, acting=current_user)
    except AccountInvalid as exc:
        session.rollback()
        flash(translate_message(exc.errors["name"]), "error")
        return redirect(url_for("admin.role_edit", name=name))
    audit.record("role.delete", object_type="role", object_id=name, before=before)
    session.commit()
    flash(_("The role '%(name)s' is deleted.", name=name), "success")
    return redirect(url_for("admin.roles_list"))
