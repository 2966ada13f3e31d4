"""Process pages of the admin area (editor, versions, diagram, diff, import/export).

Thin views: the form <-> document rules are in ``web.admin.process_form``, every check and
every write of a definition in ``tempodesk.tickets.processes``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from statemachines import DefinitionError, Problem, read_yaml
from tempodesk.core.models import Group
from tempodesk.messaging import templates
from tempodesk.tickets import processes
from web import CSP, db
from web.admin import bp
from web.admin import process_form as pf
from web.i18n import gettext as _

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# Mermaid draws its SVG with a <style> element and style attributes, which "style-src 'self'"
# blocks (every shape comes out black). The pages that draw a diagram therefore allow inline
# *styles* only; scripts stay "script-src 'self'", so markup that slipped in still cannot run.
DIAGRAM_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
assert DIAGRAM_CSP != CSP and "script-src 'self';" in DIAGRAM_CSP


def _diagram_page(body: str, status: int = 200) -> Any:
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


def _known(name: str) -> str:
    """The process of the URL; 404 unless it has a version or a draft."""
    if not _NAME.match(name) or not processes.exists(db(), name):
        abort(404)
    return name


def _author() -> str:
    return str(current_user.username)


def _diagram(text: str) -> str:
    """The Mermaid text of a document, or "" while it does not build."""
    try:
        return processes.diagram(text)
    except DefinitionError:
        return ""


def _problem_lines(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


# --------------------------------------------------------------------------- overview


@bp.route("/processes", methods=["POST"])
def new_process() -> Any:
    session = db()
    name = request.form.get("name", "").strip()
    label = request.form.get("label", "").strip()
    copy_from = request.form.get("copy_from", "")
    if not _NAME.match(name):
        flash(
            _(
                "'%(name)s' is not a valid id: use a-z, 0-9 and _, starting with a letter.",
                name=name,
            ),
            "error",
        )
        return redirect(url_for("admin.index"))
    if processes.exists(session, name):
        flash(_("There is already a process named '%(name)s'.", name=name), "error")
        return redirect(url_for("admin.index"))
    copy_of = None
    if copy_from:
        try:
            copy_of = read_yaml(processes.export(session, copy_from))
        except processes.UnknownProcess:
            flash(_("There is no process '%(name)s' to copy.", name=copy_from), "error")
            return redirect(url_for("admin.index"))
    document = pf.new_document(name, label, copy_of if isinstance(copy_of, dict) else None)
    processes.save_draft(session, name, pf.dump(document), _author())
    session.commit()
    flash(_("Created the draft of %(name)s. Publish it to use it.", name=name), "success")
    return redirect(url_for("admin.edit_process", name=name))


@bp.route("/processes/<name>")
def process(name: str) -> Any:
    session = db()
    _known(name)
    versions = processes.versions(session, name)
    draft = processes.draft(session, name)
    if versions:
        label = processes.definition(session, name, versions[0].version).label
        mermaid = _diagram(processes.export(session, name))
    else:
        label, mermaid = name, ""
    return _diagram_page(
        render_template(
            "admin/processes/show.html",
            name=name,
            label=label,
            versions=versions,
            draft=draft,
            mermaid=mermaid,
        )
    )


@bp.route("/processes/<name>/versions/<int:version>/export")
def export_version(name: str, version: int) -> Any:
    try:
        text = processes.export(db(), _known(name), version)
    except processes.UnknownProcess:
        abort(404)
    response = make_response(text)
    response.mimetype = "text/yaml"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-v{version}.yaml"'
    return response


@bp.route("/processes/<name>/diff")
def diff(name: str) -> Any:
    session = db()
    _known(name)
    numbers = [v.version for v in processes.versions(session, name)]
    old = request.args.get("a", type=int)
    new = request.args.get("b", type=int)
    if old not in numbers or new not in numbers:
        abort(404)
    return render_template(
        "admin/processes/diff.html",
        name=name,
        old=old,
        new=new,
        lines=processes.diff(session, name, old, new),
        numbers=numbers,
    )


@bp.route("/processes/<name>/import", methods=["POST"])
def import_process(name: str) -> Any:
    session = db()
    _known(name)
    upload = request.files.get("file")
    text = request.form.get("yaml", "")
    if upload is not None and upload.filename:
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            flash(_("The file is not UTF-8 text; nothing was imported."), "error")
            return redirect(url_for("admin.process", name=name))
    if not text.strip():
        flash(_("Choose a file or paste the YAML to import."), "error")
        return redirect(url_for("admin.process", name=name))
    try:
        read_yaml(text)
    except DefinitionError as exc:
        # Not even YAML: keep the draft there is rather than replace it with this.
        for problem in exc.problems:
            flash(_("Not imported: %(problem)s", problem=str(problem)), "error")
        return redirect(url_for("admin.process", name=name))
    checked = processes.save_draft(session, name, text, _author())
    session.commit()
    if checked.ok:
        flash(_("Imported into the draft. It has no problems: publish it when ready."), "success")
    else:
        flash(
            _(
                "Imported into the draft. %(count)s problem(s) to fix before publishing.",
                count=len(checked.problems),
            ),
            "error",
        )
    return redirect(url_for("admin.process_yaml", name=name))


@bp.route("/processes/<name>/discard", methods=["POST"])
def discard_draft(name: str) -> Any:
    session = db()
    _known(name)
    processes.discard_draft(session, name)
    session.commit()
    flash(_("Discarded the draft of %(name)s.", name=name), "success")
    if processes.latest(session, name) is None:
        return redirect(url_for("admin.index"))
    return redirect(url_for("admin.process", name=name))


# --------------------------------------------------------------------------- editors


def _publish(name: str, text: str) -> list[Problem]:
    """Publish ``text``; the problems if it cannot be (nothing is published then)."""
    session = db()
    before = processes.latest(session, name)
    try:
        version = processes.publish_draft(session, name, text, _author())
    except DefinitionError as exc:
        session.rollback()
        return exc.problems
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
    _known(name)
    if request.method == "GET":
        text = processes.draft_text(session, name)
        return _form_editor(name, text, processes.check_draft(session, name, text).problems)
    form = request.form.to_dict(flat=False)
    result = pf.document_from_form(form, name)
    op = pf.operation(form)
    anchor = pf.apply(result, op)
    text = pf.dump(result.document)
    checked = processes.save_draft(session, name, text, _author())
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
    return _diagram_page(
        render_template(
            "admin/processes/edit.html",
            name=name,
            form=form,
            placement=placement,
            options=pf.options(),
            mermaid=_diagram(text),
            draft=processes.draft(session, name),
        ),
        status,
    )


@bp.route("/processes/<name>/yaml", methods=["GET", "POST"])
def process_yaml(name: str) -> Any:
    session = db()
    _known(name)
    if request.method == "GET":
        text = processes.draft_text(session, name)
        return _yaml_editor(name, text, processes.check_draft(session, name, text).problems)
    text = request.form.get("yaml", "").replace("\r\n", "\n")
    checked = processes.save_draft(session, name, text, _author())
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
    return _diagram_page(
        render_template(
            "admin/processes/yaml.html",
            name=name,
            text=text,
            problems=problems,
            mermaid=_diagram(text),
            draft=processes.draft(db(), name),
        ),
        status,
    )


@bp.route("/processes/<name>/diagram", methods=["POST"])
def diagram(name: str) -> Any:
    """The live diagram: Mermaid text and problems of the YAML or of the form being edited."""
    session = db()
    _known(name)
    if "yaml" in request.form:
        text = request.form["yaml"].replace("\r\n", "\n")
        extra: list[Problem] = []
    else:
        result = pf.document_from_form(request.form.to_dict(flat=False), name)
        text, extra = pf.dump(result.document), result.problems
    checked = processes.check_draft(session, name, text)
    session.rollback()  # reads only
    return jsonify(
        {"mermaid": _diagram(text), "problems": _problem_lines(extra + checked.problems)}
    )
