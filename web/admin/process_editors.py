"""The two editors of a process's draft: the form editor and the expert (YAML) editor, the
live diagram both draw while one edits, and publishing from either.

Thin views: the form <-> document rules are in ``web.admin.process_form``, every check and
every write of a definition in ``tempodesk.tickets.processes``.
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from statemachines import DefinitionError, Problem, read_yaml
from tempodesk.core.models import Group
from tempodesk.messaging import templates
from tempodesk.tickets import processes
from web import audit, db
from web.admin import bp
from web.admin import process_form as pf
from web.admin.processes import (
    author,
    diagram_page,
    known_process,
    language_warnings_of,
    mermaid_of,
    save_draft,
)
from web.i18n import gettext as _


def _problem_lines(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def _publish(name: str, text: str) -> list[Problem]:
    """Publish ``text``; the problems if it cannot be (nothing is published then)."""
    session = db()
    before = processes.latest(session, name)
    try:
        version = processes.publish_draft(session, name, text, author())
    except DefinitionError as exc:
        session.rollback()
        return exc.problems
    if before is None or before.id != version.id:
        audit.record(
            "process.publish",
            object_type="process",
            object_id=name,
            before={"version": before.version} if before is not None else None,
            after={"version": version.version},
        )
    session.commit()
    if before is not None and before.id == version.id:
        flash(
            _(
                "Nothing to publish: the draft is the same as %(name)s v%(version)s.",
                name=name,
                version=version.version,
            ),
            "info",
        )
    else:
        flash(_("Published %(name)s v%(version)s.", name=name, version=version.version), "success")
    return []


@bp.route("/processes/<name>/edit", methods=["GET", "POST"])
def edit_process(name: str) -> Any:
    session = db()
    known_process(name)
    if request.method == "GET":
        text = processes.draft_text(session, name)
        return _form_editor(name, text, processes.check_draft(session, name, text).problems)
    form = request.form.to_dict(flat=False)
    result = pf.document_from_form(form, name)
    op = pf.operation(form)
    anchor = pf.apply(result, op)
    text = pf.dump(result.document)
    checked = save_draft(name, text)
    session.commit()
    if op == "publish":
        problems = result.problems + checked.problems or _publish(name, text)
        if not problems:
            return redirect(url_for("admin.process", name=name))
        flash(_("Not published: fix the problems shown first."), "error")
        return _form_editor(name, text, problems, status=422)
    for problem in result.problems:
        flash(str(problem), "error")
    if op == "save":
        flash(_("Draft saved.") if checked.ok else _("Draft saved; it has problems."), "success")
    return redirect(url_for("admin.edit_process", name=name, _anchor=anchor or None))


def _form_editor(name: str, text: str, problems: list[Problem], status: int = 200) -> Any:
    session = db()
    try:
        document = read_yaml(text)
        reasons = pf.not_editable(document)
    except DefinitionError as exc:
        document, reasons = None, [str(p) for p in exc.problems]
    if reasons:
        page = render_template("admin/processes/not_editable.html", name=name, reasons=reasons)
        return page, status
    form = pf.editor_form(
        document,
        groups=session.scalars(select(Group.name).order_by(Group.name)),
        templates=[t.name for t in templates.all_templates(session)],
    )
    placement = pf.place(problems, form.state_ids, form.action_ids)
    return diagram_page(
        render_template(
            "admin/processes/edit.html",
            name=name,
            form=form,
            placement=placement,
            warnings=language_warnings_of(text),
            options=pf.options(),
            mermaid=mermaid_of(text),
            draft=processes.draft(session, name),
        ),
        status,
    )


@bp.route("/processes/<name>/yaml", methods=["GET", "POST"])
def process_yaml(name: str) -> Any:
    session = db()
    known_process(name)
    if request.method == "GET":
        text = processes.draft_text(session, name)
        return _yaml_editor(name, text, processes.check_draft(session, name, text).problems)
    text = request.form.get("yaml", "").replace("\r\n", "\n")
    checked = save_draft(name, text)
    session.commit()
    if request.form.get("op") == "publish":
        problems = checked.problems or _publish(name, text)
        if not problems:
            return redirect(url_for("admin.process", name=name))
        flash(_("Not published: fix the problems listed first."), "error")
        return _yaml_editor(name, text, problems, status=422)
    flash(_("Draft saved.") if checked.ok else _("Draft saved; it has problems."), "success")
    return _yaml_editor(name, text, checked.problems)


def _yaml_editor(name: str, text: str, problems: list[Problem], status: int = 200) -> Any:
    return diagram_page(
        render_template(
            "admin/processes/yaml.html",
            name=name,
            text=text,
            problems=problems,
            warnings=language_warnings_of(text),
            mermaid=mermaid_of(text),
            draft=processes.draft(db(), name),
        ),
        status,
    )


@bp.route("/processes/<name>/diagram", methods=["POST"])
def diagram(name: str) -> Any:
    """The live diagram: Mermaid text and problems of the YAML or of the form being edited."""
    session = db()
    known_process(name)
    if "yaml" in request.form:
        text = request.form["yaml"].replace("\r\n", "\n")
        extra: list[Problem] = []
    else:
        result = pf.document_from_form(request.form.to_dict(flat=False), name)
        text, extra = pf.dump(result.document), result.problems
    checked = processes.check_draft(session, name, text)
    session.rollback()  # reads only
    return jsonify(
        {"mermaid": mermaid_of(text), "problems": _problem_lines(extra + checked.problems)}
    )
