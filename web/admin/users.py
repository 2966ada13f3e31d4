"""Admin pages for users (who may sign in, their roles, groups and language) and groups
(description, supervisor, parent group, roles, members); roles have their own pages
(``web.admin.roles``).

Every form reads only the fields listed here: a crafted POST with more fields changes nothing
else. The rules (checks, rights, hashing) live in ``tempodesk.people.users``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.core.audit import CHANGED, snapshot
from tempodesk.people import roles, users
from tempodesk.people.users import AccountInvalid, UserData
from tempodesk.tickets import ratings
from web import audit, db
from web.admin import bp
from web.i18n import LANGUAGES, offered_languages
from web.i18n import gettext as _

USER_FIELDS = (
    "username",
    "display_name",
    "email",
    "role_names",
    "is_admin",
    "is_active",
    "language",
    "groups",
)
GROUP_FIELDS = ("name", "description", "supervisor", "parent_name", "role_names", "members")


def _user_state(user: Any, data: UserData | None = None) -> dict[str, Any]:
    """What the audit log keeps of a user; a new password shows only as set."""
    state = snapshot(user, USER_FIELDS)
    if data is not None and data.password:
        state["password"] = CHANGED
    return state


def _checked(name: str) -> bool:
    return request.form.get(name) == "on"


def _listed(name: str) -> list[str] | None:
    """The values ticked under ``name``; None when the form does not have the field at all
    (a form from before it: what it names stays as it is)."""
    if name not in request.form:
        return None
    return [value for value in request.form.getlist(name) if value]


@bp.route("/users")
def users_list() -> Any:
    return render_template(
        "admin/users/list.html",
        users=users.all_users(db()),
        figures=ratings.agent_figures(db()),
    )


def _user_data() -> UserData:
    """Only these fields of the form are read (never a username, id or hash)."""
    return UserData(
        display_name=request.form.get("display_name", ""),
        email=request.form.get("email", ""),
        password=request.form.get("password", ""),
        roles=_listed("roles"),
        is_admin=_checked("is_admin"),
        is_active=_checked("is_active"),
        groups=request.form.getlist("groups"),
        language=request.form.get("language", ""),
        extension=request.form.get("extension", ""),
    )


def _user_form(
    user: Any, data: UserData, errors: dict[str, str], *, username: str = "", status: int = 200
) -> Any:
    return (
        render_template(
            "admin/users/edit.html",
            user=user,
            username=user.username if user else username,
            data=data,
            errors=errors,
            groups=users.all_groups(db()),
            roles=roles.all_roles(db()),
            languages=list(offered_languages(data.language)),
            language_names=LANGUAGES,  # each language named in itself
            min_password=users.MIN_PASSWORD,
            is_self=user is not None and user.id == current_user.id,
        ),
        status,
    )


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> Any:
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        data = _user_data()
        data.is_active = True
        session = db()
        try:
            created = users.create_user(session, username, data)
        except AccountInvalid as exc:
            session.rollback()
            data.password = ""
            return _user_form(None, data, exc.errors, username=username, status=422)
        audit.record(
            "user.create", object_type="user", object_id=username, after=_user_state(created, data)
        )
        session.commit()
        flash(_("The user '%(username)s' can now sign in.", username=username), "success")
        return redirect(url_for("admin.users_list"))
    return _user_form(None, UserData(roles=[users.DEFAULT_ROLE]), {})


@bp.route("/users/<username>", methods=["GET", "POST"])
def user_edit(username: str) -> Any:
    session = db()
    user = users.get_user(session, username)
    if user is None:
        abort(404)
    if request.method == "POST":
        data = _user_data()
        before = _user_state(user)
        try:
            users.update_user(session, user, data, acting=current_user)
        except AccountInvalid as exc:
            session.rollback()
            data.password = ""
            return _user_form(user, data, exc.errors, status=422)
        audit.record(
            "user.update",
            object_type="user",
            object_id=username,
            before=before,
            after=_user_state(user, data),
        )
        session.commit()
        flash(_("The user '%(username)s' is saved.", username=username), "success")
        return redirect(url_for("admin.users_list"))
    data = UserData(
        display_name=user.display_name,
        email=user.email,
        roles=user.role_names,
        is_active=user.is_active,
        groups=[g.name for g in user.groups],
        language=user.language,
        extension=user.extension or "",
    )
    return _user_form(user, data, {})


@bp.route("/groups", methods=["GET", "POST"])
def groups_list() -> Any:
    session = db()
    errors: dict[str, str] = {}
    values = {"name": "", "description": ""}
    if request.method == "POST":
        values = {
            "name": request.form.get("name", "").strip(),
            "description": request.form.get("description", ""),
        }
        try:
            group = users.create_group(session, values["name"], values["description"])
        except AccountInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            after = snapshot(group, GROUP_FIELDS)
            audit.record("group.create", object_type="group", object_id=group.name, after=after)
            session.commit()
            flash(
                _("The group '%(name)s' is created; now add its members.", name=group.name),
                "success",
            )
            return redirect(url_for("admin.group_edit", name=group.name))
    return (
        render_template(
            "admin/users/groups.html",
            groups=users.all_groups(session),
            values=values,
            errors=errors,
        ),
        422 if errors else 200,
    )


@bp.route("/groups/<name>", methods=["GET", "POST"])
def group_edit(name: str) -> Any:
    session = db()
    group = users.get_group(session, name)
    if group is None:
        abort(404)
    errors: dict[str, str] = {}
    description = group.description
    supervisor = group.supervisor or ""
    members = [u.username for u in group.members]
    parent: str | None = group.parent_name
    chosen: list[str] | None = group.role_names
    if request.method == "POST":
        description = request.form.get("description", "")
        supervisor = request.form.get("supervisor", "")
        members = request.form.getlist("members")
        parent, chosen = request.form.get("parent"), _listed("roles")
        before = snapshot(group, GROUP_FIELDS)
        try:
            users.update_group(
                session,
                group,
                description=description,
                supervisor=supervisor,
                members=members,
                parent=parent,
                roles=chosen,
            )
        except AccountInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            after = snapshot(group, GROUP_FIELDS)
            audit.record(
                "group.update", object_type="group", object_id=name, before=before, after=after
            )
            session.commit()
            flash(_("The group '%(name)s' is saved.", name=name), "success")
            return redirect(url_for("admin.groups_list"))
    values = {
        "description": description,
        "supervisor": supervisor,
        "members": members,
        "parent": group.parent_name if parent is None else parent,
        "roles": group.role_names if chosen is None else chosen,
    }
    return (
        render_template(
            "admin/users/group.html",
            group=group,
            values=values,
            errors=errors,
            users=users.all_users(session),
            groups=users.all_groups(session),
            roles=roles.all_roles(session),
        ),
        422 if errors else 200,
    )
