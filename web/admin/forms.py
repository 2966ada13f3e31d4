"""Admin pages for the web forms per site: list, create, edit, deactivate, and the field
editor (a plain form: each field is a row, empty rows are dropped, ``order`` sorts them).

The rules (slugs, origins, field keys, column limits) live in ``tempodesk.tickets.forms``
and ``form_fields``; the default form (``/support/new``) stays built in.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from tempodesk.people import users
from tempodesk.tickets import forms, processes, queries
from tempodesk.tickets.form_fields import FIELD_TYPES, SNIFFED, FormField
from web import audit, db, runtime
from web.admin import bp
from web.i18n import gettext as _
from web.i18n import offered_languages

#: Empty rows the field editor offers below the form's fields.
BLANK_ROWS = 3


def _number(form: MultiDict[str, str], name: str, default: int) -> int:
    value = form.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        return -1  # refused by the range check with the field's own message


def _fields(form: MultiDict[str, str]) -> list[FormField]:
    rows: list[tuple[int, int, FormField]] = []
    index = 0
    while f"fields-{index}-key" in form:
        prefix = f"fields-{index}-"
        key, label = form.get(prefix + "key", "").strip(), form.get(prefix + "label", "").strip()
        if key or label:
            choices = form.get(prefix + "choices", "").replace("\r\n", "\n").split("\n")
            spec = FormField(
                key=key,
                label=label,
                type=form.get(prefix + "type", "text"),
                required=prefix + "required" in form,
                max_length=_number(form, prefix + "max_length", 200),
                choices=tuple(c.strip() for c in choices if c.strip()),
                help=form.get(prefix + "help", "").strip(),
            )
            rows.append((_number(form, prefix + "order", index), index, spec))
        index += 1
    return [spec for _order, _index, spec in sorted(rows, key=lambda r: (r[0], r[1]))]


def _posted() -> forms.FormSettings:
    form = request.form
    return forms.FormSettings(
        slug=form.get("slug", "").strip(),
        title=form.get("title", ""),
        intro=form.get("intro", "").replace("\r\n", "\n"),
        language=form.get("language", ""),
        confirmation=form.get("confirmation", "").replace("\r\n", "\n"),
        embed_origins=form.get("embed_origins", "").replace("\r\n", "\n"),
        internal="internal" in form,
        active="active" in form,
        ask_order="ask_order" in form,
        max_attachment_bytes=_number(form, "max_attachment_kb", 0) * 1024,
        attachment_types=form.get("attachment_types", ""),
        max_links=_number(form, "max_links", 3),
        blocked_words=form.get("blocked_words", "").replace("\r\n", "\n"),
        process=form.get("process", ""),
        group=form.get("group", ""),
        owner=form.get("owner", ""),
        fields=_fields(form),
    )


def _editor(
    data: forms.FormSettings,
    editing: str | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    session = db()
    return (
        render_template(
            "admin/forms/edit.html",
            data=data,
            editing=editing,
            errors=errors or {},
            rows=[*data.fields, *[None] * BLANK_ROWS],
            field_types=FIELD_TYPES,
            file_types=list(SNIFFED),
            languages=list(offered_languages(data.language)),
            processes=processes.names(session),
            groups=users.all_groups(session),
            agents=queries.active_agents(session),
            max_attachment_kb=runtime().settings.max_attachment_bytes // 1024,
        ),
        status,
    )


@bp.route("/forms")
def forms_list() -> Any:
    return render_template("admin/forms/list.html", forms=forms.all_forms(db()))


@bp.route("/forms/new", methods=["GET", "POST"])
def form_new() -> Any:
    if request.method == "GET":
        return _editor(forms.FormSettings(slug="", fields=[]), None)
    return _save(None)


@bp.route("/forms/<slug>", methods=["GET", "POST"])
def form_edit(slug: str) -> Any:
    found = forms.find(db(), slug, active_only=False)
    if found is None:
        abort(404)
    if request.method == "GET":
        return _editor(found, slug)
    return _save(slug)


def _state(slug: str | None) -> dict[str, Any] | None:
    """What the audit log keeps of a form (None: none yet)."""
    found = forms.find(db(), slug, active_only=False) if slug else None
    return asdict(found) if found is not None else None


def _save(editing: str | None) -> Any:
    data = _posted()
    session = db()
    before = _state(editing)
    try:
        forms.save(
            session,
            data,
            max_attachment_bytes=runtime().settings.max_attachment_bytes,
            editing=editing,
        )
    except forms.FormInvalid as exc:
        session.rollback()
        return _editor(data, editing, exc.errors, 422)
    session.flush()
    audit.record(
        "form.create" if before is None else "form.update",
        object_type="form",
        object_id=data.slug,
        before=before,
        after=_state(data.slug),
    )
    session.commit()
    flash(_("The form is saved."), "success")
    return redirect(url_for("admin.form_edit", slug=data.slug))


@bp.route("/forms/<slug>/active", methods=["POST"])
def form_active(slug: str) -> Any:
    """Deactivate a form (its page answers 404) or bring it back."""
    active = request.form.get("active") == "1"
    before = _state(slug)
    if not forms.set_active(db(), slug, active):
        abort(404)
    db().flush()
    audit.record(
        "form.activate" if active else "form.deactivate",
        object_type="form",
        object_id=slug,
        before=before,
        after=_state(slug),
    )
    db().commit()
    flash(_("The form is active.") if active else _("The form is deactivated."), "success")
    return redirect(url_for("admin.forms_list"))
