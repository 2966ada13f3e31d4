"""Admin pages for email/SMS templates: the list, the editor with its live preview, and
each template's revisions.

Every form reads only the fields listed here: a crafted POST with more fields changes nothing
else. The rules (checks, the sandbox, revisions) live in ``tempodesk.messaging.templates``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.messaging import templates
from tempodesk.messaging.templates import PreviewProblem, TemplateCheck, TemplateInvalid
from web import audit, db, runtime
from web.admin import bp
from web.i18n import LANGUAGES
from web.i18n import gettext as _

LANGUAGE_NAMES = LANGUAGES  # each language named in itself
RESERVED_TEMPLATE_NAMES = ("new",)  # /admin/templates/new is the form for a new one


def _text(name: str) -> str:
    """A form field as text, with the browser's CRLF line ends made plain newlines."""
    return request.form.get(name, "").replace("\r\n", "\n")


@bp.route("/templates")
def templates_list() -> Any:
    return render_template(
        "admin/templates/list.html",
        templates=templates.all_templates(db()),
        language_names=LANGUAGE_NAMES,
    )


@bp.route("/templates/new", methods=["GET", "POST"])
def template_new() -> Any:
    values = {"name": "", "channel": "email", "description": "", "essential": True, "texts": {}}
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
        "essential": template.essential,
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
        "essential": not request.form.get("non_essential"),
        "texts": texts,
    }


def _state(name: str) -> dict[str, Any] | None:
    """What the audit log keeps of a template (None: there is none yet)."""
    template = templates.get(db(), name)
    if template is None:
        return None
    return {
        "channel": template.channel,
        "description": template.description,
        "essential": template.essential,
        "texts": {t.language: {"subject": t.subject, "body": t.body} for t in template.texts},
    }


def _save(name: str, values: dict[str, Any]) -> list[TemplateCheck] | None:
    """Save and commit; the problems if the template is refused."""
    session = db()
    before = _state(name)
    try:
        templates.save(
            session,
            name,
            channel=values["channel"],
            description=values["description"][:255],
            texts=values["texts"],
            author=current_user.username,
            essential=values["essential"],
        )
    except TemplateInvalid as exc:
        session.rollback()
        return exc.problems
    session.flush()
    audit.record(
        "template.create" if before is None else "template.update",
        object_type="template",
        object_id=name,
        before=before,
        after=_state(name),
    )
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
