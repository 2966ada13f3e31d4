"""Admin pages for email/SMS templates (editor, live preview, revisions), users and groups.

Every form reads only the fields listed here: a crafted POST with more fields changes nothing
else. The rules (checks, rights, hashing) live in ``tempodesk.messaging.templates`` and
``tempodesk.people.users``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.messaging import templates
from tempodesk.messaging.templates import PreviewProblem, TemplateCheck, TemplateInvalid
from tempodesk.people import users
from tempodesk.people.users import AccountInvalid, UserData
from web import db, runtime
from web.admin import bp
from web.i18n import LANGUAGES
from web.i18n import gettext as _

LANGUAGE_NAMES = LANGUAGES  # each language named in itself
RESERVED_TEMPLATE_NAMES = ("new",)  # /admin/templates/new is the form for a new one


def _text(name: str) -> str:
    """A form field as text, with the browser's CRLF line ends made plain newlines."""
    return request.form.get(name, "").replace("\r\n", "\n")


def _checked(name: str) -> bool:
    return request.form.get(name) == "on"


# ------------------------------------------------------------------------------ templates


@bp.route("/templates")
def templates_list() -> Any:
    return render_template(
        "admin/templates/list.html",
        templates=templates.all_templates(db()),
        language_names=LANGUAGE_NAMES,
    )


@bp.route("/templates/new", methods=["GET", "POST"])
def template_new() -> Any:
    values = {"name": "", "channel": "email", "description": "", "texts": {}}
    if request.method == "POST":
        values = _template_form()
        name = str(values["name"])
        problems = []
        if name in RESERVED_TEMPLATE_NAMES:
            problems.append(
                TemplateCheck("", "name", _("'%(name)s' is reserved; choose another.", name=name))
            )
        elif templates.get(db(), name) is not None:
            problems.append(
                TemplateCheck("", "name", _("There is a template '%(name)s' already.", name=name))
            )
        if not problems:
            saved = _save(name, values)
            if isinstance(saved, list):
                problems = saved
            else:
                flash(_("The template '%(name)s' is saved.", name=name), "success")
                return redirect(url_for("admin.template_edit", name=name))
        return _editor(values, problems, is_new=True, status=422)
    return _editor(values, [], is_new=True)


@bp.route("/templates/<name>", methods=["GET", "POST"])
def template_edit(name: str) -> Any:
    template = templates.get(db(), name)
    if template is None:
        abort(404)
    if request.method == "POST":
        values = _template_form(name)
        saved = _save(name, values)
        if isinstance(saved, list):
            return _editor(values, saved, status=422)
        flash(_("The template '%(name)s' is saved.", name=name), "success")
        return redirect(url_for("admin.template_edit", name=name))
    values = {
        "name": template.name,
        "channel": template.channel,
        "description": template.description,
        "texts": {t.language: (t.subject, t.body) for t in template.texts},
    }
    return _editor(values, [])


def _template_form(name: str | None = None) -> dict[str, Any]:
    channel = request.form.get("channel", "")
    texts: dict[str, tuple[str, str]] = {}
    for language in templates.LANGUAGES:
        subject = _text(f"subject_{language}") if channel == "email" else ""
        body = _text(f"body_{language}")
        if subject.strip() or body.strip():  # a language left empty is not offered
            texts[language] = (subject, body)
    return {
        "name": name if name is not None else request.form.get("name", "").strip(),
        "channel": channel,
        "description": request.form.get("description", "").strip(),
        "texts": texts,
    }


def _save(name: str, values: dict[str, Any]) -> list[TemplateCheck] | None:
    """Save and commit; the problems if the template is refused."""
    session = db()
    try:
        templates.save(
            session,
            name,
            channel=values["channel"],
            description=values["description"][:255],
            texts=values["texts"],
            author=current_user.username,
        )
    except TemplateInvalid as exc:
        session.rollback()
        return exc.problems
    session.commit()
    return None


def _editor(
    values: dict[str, Any],
    problems: list[TemplateCheck],
    *,
    is_new: bool = False,
    status: int = 200,
) -> Any:
    name = values["name"]
    return (
        render_template(
            "admin/templates/edit.html",
            values=values,
            problems=problems,
            is_new=is_new,
            languages=templates.LANGUAGES,
            language_names=LANGUAGE_NAMES,
            channels=templates.CHANNELS,
            variables=templates.VARIABLES,
            sms_max=templates.SMS_MAX_CHARS,
            revisions=[] if is_new else templates.revisions(db(), name),
            preview_url=url_for("admin.template_preview", name="new" if is_new else name),
        ),
        status,
    )


@bp.route("/templates/<name>/preview", methods=["POST"])
def template_preview(name: str) -> Any:
    """Render the text being edited; JSON {subject, body} or {error, part}."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify({"error": "Send a JSON object."}), 400
    fields = {
        key: data.get(key, "") for key in ("channel", "language", "subject", "body", "ticket")
    }
    if not all(isinstance(value, str) for value in fields.values()):
        return jsonify({"error": "Every value must be text."}), 400
    settings = runtime().settings
    try:
        subject, body = templates.preview(
            db(),
            channel=fields["channel"],
            subject=fields["subject"],
            body=fields["body"],
            ticket_number=fields["ticket"],
            public_url=settings.public_url,
            helpdesk_name=settings.mail_from_name,
            agent=current_user,
        )
    except PreviewProblem as exc:
        return jsonify({"error": str(exc), "part": exc.part})
    return jsonify({"subject": subject, "body": body})


# ------------------------------------------------------------------------------ users


@bp.route("/users")
def users_list() -> Any:
    return render_template("admin/users/list.html", users=users.all_users(db()))


def _user_data() -> UserData:
    """Only these fields of the form are read (never a username, id or hash)."""
    return UserData(
        display_name=request.form.get("display_name", ""),
        email=request.form.get("email", ""),
        password=request.form.get("password", ""),
        is_admin=_checked("is_admin"),
        is_active=_checked("is_active"),
        groups=request.form.getlist("groups"),
        language=request.form.get("language", ""),
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
            languages=templates.LANGUAGES,
            language_names=LANGUAGE_NAMES,
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
            users.create_user(session, username, data)
        except AccountInvalid as exc:
            session.rollback()
            data.password = ""
            return _user_form(None, data, exc.errors, username=username, status=422)
        session.commit()
        flash(_("The user '%(username)s' can now sign in.", username=username), "success")
        return redirect(url_for("admin.users_list"))
    return _user_form(None, UserData(), {})


@bp.route("/users/<username>", methods=["GET", "POST"])
def user_edit(username: str) -> Any:
    session = db()
    user = users.get_user(session, username)
    if user is None:
        abort(404)
    if request.method == "POST":
        data = _user_data()
        try:
            users.update_user(session, user, data, acting=current_user)
        except AccountInvalid as exc:
            session.rollback()
            data.password = ""
            return _user_form(user, data, exc.errors, status=422)
        session.commit()
        flash(_("The user '%(username)s' is saved.", username=username), "success")
        return redirect(url_for("admin.users_list"))
    data = UserData(
        display_name=user.display_name,
        email=user.email,
        is_admin=user.is_admin,
        is_active=user.is_active,
        groups=[g.name for g in user.groups],
        language=user.language,
    )
    return _user_form(user, data, {})


# ------------------------------------------------------------------------------ groups


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
    if request.method == "POST":
        description = request.form.get("description", "")
        supervisor = request.form.get("supervisor", "")
        members = request.form.getlist("members")
        try:
            users.update_group(
                session, group, description=description, supervisor=supervisor, members=members
            )
        except AccountInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            flash(_("The group '%(name)s' is saved.", name=name), "success")
            return redirect(url_for("admin.groups_list"))
    values = {"description": description, "supervisor": supervisor, "members": members}
    return (
        render_template(
            "admin/users/group.html",
            group=group,
            values=values,
            errors=errors,
            users=users.all_users(session),
        ),
        422 if errors else 200,
    )
