"""Ticket lists: the built-in views and saved filters as pages (one page of tickets at a
time, sorted, in the agent's view mode), full-text search, and the left panel the agent
arranges (which lists, in what order, their counts)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from tempodesk.contracts import Actor
from tempodesk.tickets import bulk as ticket_bulk
from tempodesk.tickets import filter_form, lists, panel, queries, saved_filters
from tempodesk.tickets.panel_counts import CountCache
from web import db, runtime
from web.desk.common import bp, current_actor, safe_next
from web.i18n import gettext as _
from web.i18n import translate_message, translated_priorities


def _list_key(raw: str | None) -> str:
    key = raw or "view:open"
    return key if ":" in key else f"view:{key}"  # the short form of the built-in views


def _args(*drop: str) -> dict[str, Any]:
    """The request's query arguments (lists of values) without ``drop``: for links that keep
    the list the agent is on (more, sort, mode). Names starting with "_" are dropped: to
    ``url_for`` they are options (``_external``, ``_scheme``), not query arguments."""
    return {
        k: v
        for k, v in request.args.to_dict(flat=False).items()
        if k not in drop and not k.startswith("_")
    }


def _list_label(key: str, label: str) -> str:
    """A list's name: the built-in ones in the agent's language, saved filters as named."""
    return translate_message(label) if key.startswith("view:") else label


def _panel(session: Any, actor: Actor) -> list[panel.PanelEntry]:
    """The panel with the counts kept from the last few seconds, or none: counting 13 lists
    over 100k tickets would cost more than the rest of the page (desk.js fetches them)."""
    entries = panel.panel(session, actor, with_counts=False, kept=kept_counts())
    return [replace(e, label=_list_label(e.key, e.label)) for e in entries]


def kept_counts() -> CountCache:
    """The app's panel counts kept per agent (TEMPODESK_DESK_COUNTS_SECONDS)."""
    extensions = current_app.extensions
    if "tempodesk_counts" not in extensions:
        seconds = runtime().settings.desk_counts_seconds
        extensions.setdefault("tempodesk_counts", CountCache(seconds))
    cache: CountCache = extensions["tempodesk_counts"]
    return cache


def _render_list(
    *, key: str, label: str, criteria: dict[str, Any], filtered: bool, query: str | None = None
) -> Any:
    session = db()
    actor = current_actor()
    sort = request.args.get("sort", "newest")
    per = request.args.get("per", "")
    limit = min(max(int(per), 1), 100) if per.isdigit() else 50
    try:
        page = (
            lists.page(
                session,
                actor,
                criteria,
                sort=sort,
                limit=limit,
                cursor=request.args.get("cursor") or None,
            )
            if query != ""
            else lists.Page([], None)  # an empty search finds nothing (not everything)
        )
    except lists.BadQuery as exc:
        abort(400, str(exc))
    layout = panel.layout_of(session, actor.username)
    endpoint = request.endpoint or "desk.index"
    more = (
        url_for(endpoint, **_args("cursor"), cursor=page.next_cursor) if page.next_cursor else None
    )
    return render_template(
        "desk/list.html",
        page=page,
        view=key,
        label=label,
        query=query,
        filtered=filtered,
        criteria=criteria,
        form_values=filter_form.criteria_to_form(criteria),
        options=filter_form.filter_options(session, actor),
        sort=sort,
        sorts=lists.SORT_LABELS,
        mode=layout.mode,
        modes=panel.MODE_LABELS,
        panel=_panel(session, actor),
        addable=[(k, _list_label(k, label)) for k, label in panel.addable(session, actor)],
        filters={f.id: f for f in saved_filters.filters_for(session, actor)},
        may_edit=lambda saved: saved_filters.may_edit(actor, saved),
        shareable=saved_filters.shareable_groups(session, actor),
        bulk_actions=ticket_bulk.bulk_actions(session, actor),
        agents=queries.active_agents(session),
        priorities=translated_priorities(),
        more_url=more,
        sort_args=_args("sort", "cursor"),
        here=request.full_path.rstrip("?"),
        request_id=str(uuid.uuid4()),
    )


@bp.route("/")
def index() -> Any:
    """A list from the panel (``view=view:mine`` or ``view=filter:12``), optionally narrowed
    by the filter form (``filter=1`` and the criteria, which then replace the list's own)."""
    key = _list_key(request.args.get("view"))
    found = panel.resolve(db(), current_actor(), key)
    if found is None:
        abort(404)
    label, criteria = found
    label = _list_label(key, label)
    filtered = bool(request.args.get("filter"))
    if filtered:
        try:
            criteria = filter_form.criteria_from_form(request.args.to_dict(flat=False))
        except lists.BadQuery as exc:
            abort(400, str(exc))
    return _render_list(key=key, label=label, criteria=criteria, filtered=filtered)


@bp.route("/search")
def search() -> Any:
    """Full-text search over the tickets the agent may see, optionally inside one list."""
    query = request.args.get("q", "").strip()[:200]
    key = request.args.get("view") or ""
    criteria: dict[str, Any] = {}
    if key:
        found = panel.resolve(db(), current_actor(), _list_key(key))
        if found is None:
            abort(404)
        criteria = found[1]
    if query:
        criteria["text"] = query
    label = _("Search: %(words)s", words=query) if query else _("Search")
    return _render_list(
        key=_list_key(key) if key else "",
        label=label,
        criteria=criteria,
        filtered=False,
        query=query,
    )


@bp.route("/counts")
def panel_counts() -> Any:
    """The panel's counts as JSON, counted afresh (desk.js fetches them after a page that
    had none kept, and refreshes them now and then); kept for the next pages."""
    entries = panel.panel(db(), current_actor(), kept=kept_counts())
    return jsonify({e.key: e.count_text for e in entries})


def _layout_change(change: Any) -> Any:
    session = db()
    try:
        change(session, current_actor())
    except lists.BadQuery as exc:
        session.rollback()
        flash(translate_message(str(exc)), "error")
    else:
        session.commit()
    return redirect(safe_next(url_for("desk.index")))


@bp.route("/layout/add", methods=["POST"])
def layout_add() -> Any:
    key = request.form.get("key", "")
    return _layout_change(lambda s, a: panel.add_entry(s, a, key))


@bp.route("/layout/remove", methods=["POST"])
def layout_remove() -> Any:
    key = request.form.get("key", "")
    return _layout_change(lambda s, a: panel.remove_entry(s, a, key))


@bp.route("/layout/move", methods=["POST"])
def layout_move() -> Any:
    key = request.form.get("key", "")
    offset = -1 if request.form.get("direction") == "up" else 1
    return _layout_change(lambda s, a: panel.move_entry(s, a, key, offset))


@bp.route("/layout/reset", methods=["POST"])
def layout_reset() -> Any:
    return _layout_change(panel.reset_panel)


@bp.route("/layout/mode", methods=["POST"])
def layout_mode() -> Any:
    mode = request.form.get("mode", "")
    return _layout_change(lambda s, a: panel.set_mode(s, a, mode))


@bp.route("/layout/order", methods=["POST"])
def layout_order() -> Any:
    """The panel's new order after a drag and drop (JSON ``{"views": [...]}``)."""
    body = request.get_json(silent=True)
    order = body.get("views") if isinstance(body, dict) else None
    if not isinstance(order, list):
        return jsonify({"error": 'Send {"views": [...]}.'}), 400
    views = panel.reorder(db(), current_actor(), order)
    db().commit()
    return jsonify({"views": views})
