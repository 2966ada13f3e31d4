"""Admin pages for canned answers: list, create, edit, delete.

A body is a sandboxed template checked against the sample ticket when saved (problems shown
at their field); who sees an answer (everyone, chosen groups, one agent) is set here. The
rules live in ``tempodesk.messaging.canned``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.core.audit import snapshot
from tempodesk.core.models import CannedAnswer
from tempodesk.messaging import canned, templates
from tempodesk.people import users
from tempodesk.tickets import queries
from web import audit, db
from web.admin import bp
from web.i18n import gettext as _


def _form() -> canned.CannedData:
    form = request.form
    return canned.CannedData(
        title=form.get("title", ""),
        body=form.get("body", "").replace("\r\n", "\n"),
        language=form.get("language", "en"),
        sharing=form.get("sharing", "everyone"),
        groups=form.getlist("groups"),
        owner=form.get("owner", ""),
    )


def _editor(
    data: canned.CannedData,
    answer: CannedAnswer | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    return (
        render_template(
            "admin/canned/edit.html",
            data=data,
            answer=answer,
            errors=errors or {},
            languages=templates.LANGUAGES,
            sharing=canned.SHARING,
            groups=users.all_groups(db()),
            agents=queries.active_agents(db()),
            variables=templates.VARIABLES,
        ),
        status,
    )


@bp.route("/canned")
def canned_list() -> Any:
    return render_template(
        "admin/canned/list.html", answers=canned.all_answers(db()), sharing=canned.SHARING
    )


@bp.route("/canned/new", methods=["GET", "POST"])
def canned_new() -> Any:
    if request.method == "GET":
        return _editor(canned.CannedData(), None)
    data = _form()
    try:
        answer = canned.save(db(), data, author=current_user.username)
    except canned.CannedInvalid as exc:
        db().rollback()
        return _editor(data, None, exc.errors, 422)
    db().flush()
    audit.record("canned.create", object_type="canned", object_id=answer.id, after=_state(answer))
    db().commit()
    flash(_("The canned answer “%(title)s” is saved.", title=answer.title), "success")
    return redirect(url_for("admin.canned_edit", answer_id=answer.id))


CANNED_FIELDS = ("title", "body", "language", "owner", "groups")


def _state(answer: CannedAnswer) -> dict[str, Any]:
    return snapshot(answer, CANNED_FIELDS)


def _answer_or_404(answer_id: int) -> CannedAnswer:
    answer = db().get(CannedAnswer, answer_id)
    if answer is None:
        abort(404)
    return answer


@bp.route("/canned/<int:answer_id>", methods=["GET", "POST"])
def canned_edit(answer_id: int) -> Any:
    answer = _answer_or_404(answer_id)
    if request.method == "GET":
        return _editor(canned.data_of(answer), answer)
    data = _form()
    before = _state(answer)
    try:
        canned.save(db(), data, author=current_user.username, answer=answer)
    except canned.CannedInvalid as exc:
        db().rollback()
        return _editor(data, _answer_or_404(answer_id), exc.errors, 422)
    audit.record(
        "canned.update",
        object_type="canned",
        object_id=answer_id,
        before=before,
        after=_state(answer),
    )
    db().commit()
    flash(_("The canned answer “%(title)s” is saved.", title=answer.title), "success")
    return redirect(url_for("admin.canned_edit", answer_id=answer.id))


@bp.route("/canned/<int:answer_id>/delete", methods=["POST"])
def canned_delete(answer_id: int) -> Any:
    answer = _answer_or_404(answer_id)
    title = answer.title
    before = _state(answer)
    db().delete(answer)
    audit.record("canned.delete", object_type="canned", object_id=answer_id, before=before)
    db().commit()
    flash(_("The canned answer “%(title)s” is deleted.", title=title), "success")
    return redirect(url_for("admin.canned_list"))
