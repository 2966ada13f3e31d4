"""Saved filters: the current list's criteria saved under a name, personal or shared with
groups; edited and deleted by whoever may (``saved_filters.may_edit``)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from tempodesk.tickets import filter_form, lists, panel, saved_filters
from web import db
from web.desk.common import bp, current_actor
from web.i18n import gettext as _


def _filter_page(
    saved: Any,
    *,
    name: str,
    criteria: dict[str, Any],
    shared: list[str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    session = db()
    actor = current_actor()
    return (
        render_template(
            "desk/filter.html",
            saved=saved,
            name=name,
            shared=shared,
            form_values=filter_form.criteria_to_form(criteria),
            options=filter_form.filter_options(session, actor),
            shareable=saved_filters.shareable_groups(session, actor),
            errors=errors or {},
        ),
        status,
    )


def _filter_form() -> tuple[str, dict[str, Any] | None, list[str], dict[str, str]]:
    errors: dict[str, str] = {}
    criteria: dict[str, Any] | None
    try:
        criteria = filter_form.criteria_from_form(request.form.to_dict(flat=False))
    except lists.BadQuery as exc:
        criteria, errors["criteria"] = None, str(exc)
    return request.form.get("name", ""), criteria, request.form.getlist("shared_with"), errors


def _save_filter(saved: Any) -> Any:
    session = db()
    actor = current_actor()
    name, criteria, shared, errors = _filter_form()
    try:
        if errors or criteria is None:
            raise saved_filters.FilterInvalid(errors)
        result = saved_filters.save_filter(
            session, actor, name=name, criteria=criteria, shared_with=shared, existing=saved
        )
        if saved is None:
            panel.add_entry(session, actor, f"filter:{result.id}")
    except saved_filters.FilterInvalid as exc:
        session.rollback()
        return _filter_page(
            saved,
            name=name,
            criteria=criteria or {},
            shared=shared,
            errors=exc.errors,
            status=422,
        )
    session.commit()
    flash(_("Filter “%(name)s” saved.", name=result.name), "success")
    return redirect(url_for("desk.index", view=f"filter:{result.id}"))


def _editable_filter(filter_id: int) -> Any:
    saved = saved_filters.visible_filter(db(), current_actor(), filter_id)
    if saved is None:
        abort(404)
    if not saved_filters.may_edit(current_actor(), saved):
        abort(403)
    return saved


@bp.route("/filters", methods=["POST"])
def create_filter() -> Any:
    """Save the current list's criteria under a name (personal, or shared with groups)."""
    return _save_filter(None)


@bp.route("/filters/<int:filter_id>", methods=["GET"])
def edit_filter(filter_id: int) -> Any:
    saved = _editable_filter(filter_id)
    return _filter_page(
        saved, name=saved.name, criteria=dict(saved.criteria), shared=list(saved.shared_with)
    )


@bp.route("/filters/<int:filter_id>", methods=["POST"])
def update_filter(filter_id: int) -> Any:
    return _save_filter(_editable_filter(filter_id))


@bp.route("/filters/<int:filter_id>/delete", methods=["POST"])
def delete_filter(filter_id: int) -> Any:
    saved = _editable_filter(filter_id)
    name = saved.name
    saved_filters.delete_filter(db(), current_actor(), saved)
    db().commit()
    flash(_("Filter “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("desk.index"))
