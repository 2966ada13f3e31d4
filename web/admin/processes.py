"""Process pages of the admin area: the overview of a process (a new one, its page with the
versions and the diagram, export, diff, import into the draft, discarding the draft), and what
the editors (``web.admin.process_editors``) share with it: the process of the URL, its
author, the diagram and the pages' Content-Security-Policy.

Thin views: the form <-> document rules are in ``web.admin.process_form``, every check and
every write of a definition in ``tempodesk.tickets.processes``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from statemachines import DefinitionError, Problem, language_warnings, load_text, read_yaml
from tempodesk.core.models import ProcessDraft
from tempodesk.tickets import processes
from web import CSP, audit, db
from web.admin import bp
from web.admin import process_form as pf
from web.i18n import enabled_codes
from web.i18n import gettext as _

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# Mermaid draws its SVG with a <style> element and style attributes, which "style-src 'self'"
# blocks (every shape comes out black). The pages that draw a diagram therefore allow inline
# *styles* only; scripts stay "script-src 'self'", so markup that slipped in still cannot run.
DIAGRAM_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
assert DIAGRAM_CSP != CSP and "script-src 'self';" in DIAGRAM_CSP


def diagram_page(body: str, status: int = 200) -> Any:
    """A page that draws a diagram, with the Content-Security-Policy that lets it."""
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


def known_process(name: str) -> str:
    """The process of the URL; 404 unless it has a version or a draft."""
    if not _NAME.match(name) or not processes.exists(db(), name):
        abort(404)
    return name


def author() -> str:
    """Who changes a draft or publishes: the signed-in admin."""
    return str(current_user.username)


def save_draft(name: str, text: str, action: str = "process.draft_save") -> Any:
    """Save the draft (``processes.save_draft``: its check) and audit its text before and after."""
    session = db()
    draft = session.get(ProcessDraft, name)
    before = {"yaml": draft.document} if draft is not None else None
    checked = processes.save_draft(session, name, text, author())
    audit.record(action, object_type="process", object_id=name, before=before, after={"yaml": text})
    return checked


def language_warnings_of(text: str) -> list[Problem]:
    """Texts given in several languages that lack one the helpdesk has enabled: warnings,
    shown beside the problems (publishing is still allowed; viewers read the fallback)."""
    try:
        definition = load_text(text)
    except DefinitionError:
        return []
    return language_warnings(definition, enabled_codes())


def mermaid_of(text: str) -> str:
    """The Mermaid text of a document, or "" while it does not build."""
    try:
        return processes.diagram(text)
    except DefinitionError:
        return ""


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
    save_draft(name, pf.dump(document), "process.create")
    session.commit()
    flash(_("Created the draft of %(name)s. Publish it to use it.", name=name), "success")
    return redirect(url_for("admin.edit_process", name=name))


@bp.route("/processes/<name>")
def process(name: str) -> Any:
    session = db()
    known_process(name)
    versions = processes.versions(session, name)
    draft = processes.draft(session, name)
    if versions:
        label = processes.definition(session, name, versions[0].version).label
        mermaid = mermaid_of(processes.export(session, name))
    else:
        label, mermaid = name, ""
    return diagram_page(
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
        text = processes.export(db(), known_process(name), version)
    except processes.UnknownProcess:
        abort(404)
    response = make_response(text)
    response.mimetype = "text/yaml"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-v{version}.yaml"'
    return response


@bp.route("/processes/<name>/diff")
def diff(name: str) -> Any:
    session = db()
    known_process(name)
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
    known_process(name)
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
    checked = save_draft(name, text, "process.import")
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
    known_process(name)
    draft = session.get(ProcessDraft, name)
    processes.discard_draft(session, name)
    if draft is not None:
        audit.record(
            "process.draft_discard",
            object_type="process",
            object_id=name,
            before={"yaml": draft.document},
        )
    session.commit()
    flash(_("Discarded the draft of %(name)s.", name=name), "success")
    if processes.latest(session, name) is None:
        return redirect(url_for("admin.index"))
    return redirect(url_for("admin.process", name=name))
