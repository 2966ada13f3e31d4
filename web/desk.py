"""The agent desk: ticket lists, the ticket page with its action buttons, caught mail."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import replace
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from statemachines import FieldErrors, ProcessDefinition, coerce_form
from tempodesk.contracts import Actor
from tempodesk.core.models import Attachment, Channel, Group, InboundMessage, Message, Ticket, User
from tempodesk.core.temporal import ActionRejected, TicketNotFound
from tempodesk.mail import trim_quoted
from tempodesk.mail.sink import read_caught
from tempodesk.people import accounts, users
from tempodesk.tickets import lists, marks, processes, queries
from web import compose, db, release_db, runtime
from web.i18n import (
    LANGUAGES,
    force_locale,
    inbound_status,
    rejection_text,
    translate_message,
    translated_priorities,
)
from web.i18n import gettext as _

bp = Blueprint("desk", __name__, url_prefix="/desk")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_STATUS_FOR = {"forbidden": 403, "invalid_fields": 422}


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page of the desk needs a signed-in agent."""


def _actor() -> Actor:
    return accounts.actor_for(current_user)


# ------------------------------------------------------------------ lists and search


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


def _panel(session: Any, actor: Actor) -> list[marks.PanelEntry]:
    return [replace(e, label=_list_label(e.key, e.label)) for e in marks.panel(session, actor)]


def _safe_next(default: str) -> str:
    """Where to go back to after a small form: a desk page, never another site."""
    target = request.form.get("next", "")
    if target.startswith("/desk/") and "//" not in target and "\\" not in target:
        return target
    return default


def _render_list(
    *, key: str, label: str, criteria: dict[str, Any], filtered: bool, query: str | None = None
) -> Any:
    session = db()
    actor = _actor()
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
    layout = marks.layout_of(session, actor.username)
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
        form_values=marks.criteria_to_form(criteria),
        options=marks.filter_options(session, actor),
        sort=sort,
        sorts=marks.SORT_LABELS,
        mode=layout.mode,
        modes=marks.MODE_LABELS,
        panel=_panel(session, actor),
        addable=[(k, _list_label(k, label)) for k, label in marks.addable(session, actor)],
        filters={f.id: f for f in lists.filters_for(session, actor)},
        may_edit=lambda saved: marks.may_edit(actor, saved),
        shareable=marks.shareable_groups(session, actor),
        bulk_actions=marks.bulk_actions(session, actor),
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
    found = marks.resolve(db(), _actor(), key)
    if found is None:
        abort(404)
    label, criteria = found
    label = _list_label(key, label)
    filtered = bool(request.args.get("filter"))
    if filtered:
        try:
            criteria = marks.criteria_from_form(request.args.to_dict(flat=False))
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
        found = marks.resolve(db(), _actor(), _list_key(key))
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
    """The panel's counts as JSON (marks.js refreshes them now and then)."""
    return jsonify({e.key: e.count_text for e in marks.panel(db(), _actor())})


# ------------------------------------------------------------------ the panel (layout)


def _layout_change(change: Any) -> Any:
    session = db()
    try:
        change(session, _actor())
    except lists.BadQuery as exc:
        session.rollback()
        flash(translate_message(str(exc)), "error")
    else:
        session.commit()
    return redirect(_safe_next(url_for("desk.index")))


@bp.route("/layout/add", methods=["POST"])
def layout_add() -> Any:
    key = request.form.get("key", "")
    return _layout_change(lambda s, a: marks.add_entry(s, a, key))


@bp.route("/layout/remove", methods=["POST"])
def layout_remove() -> Any:
    key = request.form.get("key", "")
    return _layout_change(lambda s, a: marks.remove_entry(s, a, key))


@bp.route("/layout/move", methods=["POST"])
def layout_move() -> Any:
    key = request.form.get("key", "")
    offset = -1 if request.form.get("direction") == "up" else 1
    return _layout_change(lambda s, a: marks.move_entry(s, a, key, offset))


@bp.route("/layout/reset", methods=["POST"])
def layout_reset() -> Any:
    return _layout_change(marks.reset_panel)


@bp.route("/layout/mode", methods=["POST"])
def layout_mode() -> Any:
    mode = request.form.get("mode", "")
    return _layout_change(lambda s, a: marks.set_mode(s, a, mode))


@bp.route("/layout/order", methods=["POST"])
def layout_order() -> Any:
    """The panel's new order after a drag and drop (JSON ``{"views": [...]}``)."""
    body = request.get_json(silent=True)
    order = body.get("views") if isinstance(body, dict) else None
    if not isinstance(order, list):
        return jsonify({"error": 'Send {"views": [...]}.'}), 400
    views = marks.reorder(db(), _actor(), order)
    db().commit()
    return jsonify({"views": views})


# ------------------------------------------------------------------ saved filters


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
    actor = _actor()
    return (
        render_template(
            "desk/filter.html",
            saved=saved,
            name=name,
            shared=shared,
            form_values=marks.criteria_to_form(criteria),
            options=marks.filter_options(session, actor),
            shareable=marks.shareable_groups(session, actor),
            errors=errors or {},
        ),
        status,
    )


def _filter_form() -> tuple[str, dict[str, Any] | None, list[str], dict[str, str]]:
    errors: dict[str, str] = {}
    criteria: dict[str, Any] | None
    try:
        criteria = marks.criteria_from_form(request.form.to_dict(flat=False))
    except lists.BadQuery as exc:
        criteria, errors["criteria"] = None, str(exc)
    return request.form.get("name", ""), criteria, request.form.getlist("shared_with"), errors


def _save_filter(saved: Any) -> Any:
    session = db()
    actor = _actor()
    name, criteria, shared, errors = _filter_form()
    try:
        if errors or criteria is None:
            raise marks.FilterInvalid(errors)
        result = marks.save_filter(
            session, actor, name=name, criteria=criteria, shared_with=shared, existing=saved
        )
        if saved is None:
            marks.add_entry(session, actor, f"filter:{result.id}")
    except marks.FilterInvalid as exc:
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
    saved = marks.visible_filter(db(), _actor(), filter_id)
    if saved is None:
        abort(404)
    if not marks.may_edit(_actor(), saved):
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
    marks.delete_filter(db(), _actor(), saved)
    db().commit()
    flash(_("Filter “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("desk.index"))


# ------------------------------------------------------------------ bulk actions


@bp.route("/bulk", methods=["POST"])
def bulk() -> Any:
    """One action (or an assignment) on each selected ticket, each through its workflow."""
    actor = _actor()
    numbers = request.form.getlist("ticket")
    op = request.form.get("op", "")
    agent = request.form.get("agent", "").strip() if op == "assign" else ""
    action_id = request.form.get("action", "").strip() if op == "perform" else ""
    back = _safe_next(url_for("desk.index"))
    if not numbers:
        flash(_("Select at least one ticket first."), "error")
        return redirect(back)
    offered = {a.id: a.label for a in marks.bulk_actions(db(), actor)}
    if op == "assign" and not agent:
        flash(_("Choose the agent to assign the tickets to."), "error")
        return redirect(back)
    if op == "perform" and action_id not in offered:
        flash(_("Choose an action that can be performed on many tickets at once."), "error")
        return redirect(back)
    if op not in ("assign", "perform"):
        abort(400)
    request_id = request.form.get("request_id", "")
    what = _("Assign to %(agent)s", agent=agent) if op == "assign" else offered[action_id]
    release_db()  # never hold a pooled connection while waiting on workflows
    # The state each ticket had on the agent's list: a ticket that has moved since (a
    # customer wrote, a colleague acted) is refused, as on its own page.
    seen = {n: request.form.get(f"seen:{n}", "") for n in numbers}
    outcomes = marks.run_bulk(
        runtime().actions,
        runtime().sessions,
        actor,
        numbers,
        action_id=action_id,
        agent=agent,
        seen_states=seen,
        request_id=request_id if _REQUEST_ID.match(request_id) else "",
    )
    return render_template("desk/bulk.html", what=what, outcomes=outcomes, back=back)


# ------------------------------------------------------------------ ticket header features


def _find_or_404(number: str) -> Any:
    ticket = queries.find_ticket(db(), number, _actor())
    if ticket is None:
        abort(404)
    return ticket


@bp.app_context_processor
def _ticket_header_helpers() -> dict[str, Any]:
    return {"ticket_header": _ticket_header, "presence_text": presence_text}


def _ticket_header(ticket: Ticket) -> marks.TicketHeader:
    """The ticket page's header: follow state and who else has the ticket open."""
    return marks.ticket_header(db(), _actor(), ticket)


def presence_text(seen: marks.Seen) -> str:
    """What the ticket page says about another agent on the ticket."""
    if seen.activity == "composing":
        return _("%(agent)s is writing a reply", agent=seen.username)
    return _("%(agent)s is looking at this ticket", agent=seen.username)


@bp.route("/tickets/<number>/preview")
def preview(number: str) -> Any:
    """A ticket's header and last messages, for the split view's preview pane (HTML)."""
    view = queries.get_ticket(db(), number, _actor())
    if view is None:
        abort(404)
    messages = sorted(view.messages.values(), key=lambda m: m.id)[-3:]
    return render_template(
        "desk/_list_preview.html",
        ticket=view.ticket,
        messages=messages,
        priorities=translated_priorities(),
    )


@bp.route("/tickets/<number>/follow", methods=["POST"])
def follow(number: str) -> Any:
    ticket = _find_or_404(number)
    wanted = request.form.get("follow", "1") == "1"
    marks.set_following(db(), _actor().username, ticket.number, wanted)
    db().commit()
    flash(
        _("You follow this ticket.") if wanted else _("You no longer follow this ticket."),
        "success",
    )
    return redirect(url_for("desk.ticket", number=ticket.number))


@bp.route("/tickets/<number>/unread", methods=["POST"])
def mark_unread(number: str) -> Any:
    ticket = _find_or_404(number)
    lists.mark_unread(db(), _actor().username, ticket.number)
    db().commit()
    flash(_("%(number)s is marked unread.", number=ticket.number), "success")
    return redirect(_safe_next(url_for("desk.index")))


@bp.route("/tickets/<number>/presence", methods=["POST"])
def presence(number: str) -> Any:
    """The agent still has the ticket open (JSON ``{"activity": "viewing"|"composing"}``);
    answers with the other agents seen on it in the last minute."""
    ticket = _find_or_404(number)
    body = request.get_json(silent=True)
    activity = body.get("activity") if isinstance(body, dict) else request.form.get("activity")
    actor = _actor()
    try:
        marks.note_presence(db(), actor.username, ticket.number, str(activity or "viewing"))
        db().commit()
    except lists.BadQuery as exc:
        return jsonify({"error": translate_message(str(exc))}), 400
    except IntegrityError:
        db().rollback()  # the same agent's other tab wrote first: just as good
    others = marks.others_present(db(), ticket.number, actor.username)
    return jsonify(
        {
            "others": [
                {"username": s.username, "activity": s.activity, "text": presence_text(s)}
                for s in others
            ]
        }
    )


@bp.route("/tickets/<number>")
def ticket(number: str) -> Any:
    """The ticket page. Opening it marks the ticket read and tells the others who is here."""
    session = db()
    actor = _actor()
    found = queries.find_ticket(session, number, actor)
    if found is None:
        abort(404)
    lists.mark_read(session, actor.username, found)
    marks.note_presence(session, actor.username, found.number, "viewing")
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # another tab of the same agent wrote the same rows first
    return _ticket_page(number)


def _ticket_page(
    number: str,
    *,
    open_action: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    session = db()
    actor = _actor()
    view = queries.get_ticket(session, number, actor)
    if view is None:
        abort(404)
    actions = runtime().actions.available(session, view.ticket, actor)
    return (
        render_template(
            "desk/ticket.html",
            view=view,
            ticket=view.ticket,
            actions=actions,
            agents=queries.active_agents(session),
            groups=list(session.scalars(select(Group).order_by(Group.name))),
            priorities=translated_priorities(),
            open_action=open_action,
            values=values or {},
            errors=errors or {},
            request_id=str(uuid.uuid4()),
            message_ids=queries.event_message_ids,
            trim=trim_quoted,
            state_label=lambda state_id: _state_label(view.definition, state_id),
            workflow_url=runtime().settings.workflow_url(view.ticket.workflow_id),
        ),
        status,
    )


def _state_label(definition: ProcessDefinition, state_id: str) -> str:
    try:
        return definition.state(state_id).label
    except KeyError:
        return state_id


@bp.route("/tickets/<number>/actions/<action_id>", methods=["POST"])
def perform(number: str, action_id: str) -> Any:
    session = db()
    actor = _actor()
    view = queries.get_ticket(session, number, actor)
    if view is None:
        abort(404)
    action = view.definition.action(action_id)
    if action is None:
        flash(_("There is no action '%(action)s'.", action=action_id), "error")
        return _ticket_page(number, status=409)
    values = coerce_form(action, request.form.to_dict(flat=False))
    files = compose.uploaded_files()  # the composer's attachments (web/compose.py); 413 if big
    request_id = request.form.get("request_id", "")
    expected_state = request.form.get("expected_state") or None
    release_db()
    try:
        result = runtime().actions.perform(
            actor,
            number,
            action_id,
            values,
            expected_state=expected_state,
            request_id=f"{actor.username}-{request_id}" if _REQUEST_ID.match(request_id) else None,
            attachments=files,  # a successful action also deletes the agent's draft of it
        )
    except TicketNotFound:
        abort(404)
    except FieldErrors as exc:
        return _ticket_page(
            number, open_action=action_id, values=values, errors=exc.errors, status=422
        )
    except ActionRejected as exc:
        if exc.field_errors:
            return _ticket_page(
                number, open_action=action_id, values=values, errors=exc.field_errors, status=422
            )
        flash(rejection_text(exc.rejection), "error")
        return _ticket_page(
            number, open_action=action_id, values=values, status=_STATUS_FOR.get(exc.code, 409)
        )
    flash(
        _(
            "%(action)s: done. The ticket is now “%(state)s”.",
            action=translate_message(action.label),
            state=translate_message(result.state_label),
        ),
        "success",
    )
    return redirect(url_for("desk.ticket", number=number))


def _visible_message(message_id: int) -> Message:
    """A message on a ticket the agent may see (404 otherwise, like the ticket itself)."""
    message = db().get(Message, message_id)
    if message is None or not message.attached:
        abort(404)
    if queries.find_ticket(db(), message.ticket_number, _actor()) is None:
        abort(404)
    return message


@bp.route("/messages/<int:message_id>/raw")
def raw_message(message_id: int) -> Any:
    """The raw source of a mail as it arrived (text, never rendered)."""
    message = _visible_message(message_id)
    inbound = db().get(InboundMessage, message.inbound_id) if message.inbound_id else None
    if inbound is None:
        abort(404)
    response = make_response(inbound.raw.decode("utf-8", "replace"))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="message-{message_id}.eml.txt"'
    return response


@bp.route("/attachments/<int:attachment_id>")
def attachment(attachment_id: int) -> Any:
    """An attachment, always as a download: never rendered in the desk's origin."""
    found = db().get(Attachment, attachment_id)
    if found is None:
        abort(404)
    _visible_message(found.message_id)
    response = make_response(found.data)
    response.headers["Content-Type"] = "application/octet-stream"
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.route("/tickets/<number>/import", methods=["POST"])
def import_eml(number: str) -> Any:
    """Add a saved mail (.eml) to this ticket, through the same pipeline as incoming mail."""
    ticket = queries.find_ticket(db(), number, _actor())
    if ticket is None:
        abort(404)
    mailbox = ticket.mailbox or db().scalar(
        select(Channel.name).where(Channel.kind == "email").order_by(Channel.id)
    )
    if mailbox is None:
        flash(_("There is no mailbox to import mail into."), "error")
        return redirect(url_for("desk.ticket", number=number))
    request.max_content_length = runtime().settings.max_import_bytes
    upload = request.files.get("eml")
    if upload is None or not upload.filename:
        flash(_("Choose a .eml file to import."), "error")
        return redirect(url_for("desk.ticket", number=number))
    raw = upload.read()
    release_db()
    outcome = runtime().inbound.receive(mailbox, raw, source="import", into_ticket=number)
    if outcome.outcome == "follow_up" and outcome.ticket == number:
        flash(_("The mail was added to the ticket."), "success")
    elif outcome.outcome == "quarantined":
        flash(_("The mail could not be read: %(reason)s", reason=outcome.reason), "error")
    elif outcome.reason:
        flash(
            _(
                "The mail was not added here (%(outcome)s: %(reason)s).",
                outcome=inbound_status(outcome.outcome),
                reason=outcome.reason,
            ),
            "error",
        )
    else:
        flash(
            _(
                "The mail was not added here (%(outcome)s).",
                outcome=inbound_status(outcome.outcome),
            ),
            "error",
        )
    return redirect(url_for("desk.ticket", number=number))


def content_disposition(filename: str) -> str:
    """attachment; filename="ascii fallback"; filename*=UTF-8''…"""
    from urllib.parse import quote

    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@bp.route("/mail")
def caught_mail() -> Any:
    directory = runtime().settings.mail_sink_dir
    if directory is None:
        abort(404)
    return render_template("desk/mail.html", mails=read_caught(directory))


# ------------------------------------------------------------------ state colours


@bp.route("/states.css")
def state_styles() -> Any:
    """The colour admins gave each state the agent may see, as a stylesheet (the CSP allows
    no inline styles): ``.st-<process>-<version>-<state>`` sets ``--state-colour`` for the
    badge's dot. Cached by the browser until a version is published (ETag)."""
    session = db()
    actor = _actor()
    # What an agent may see depends on their groups: the tag names them (a hash of them).
    seeing = "admin" if actor.is_admin else ",".join(sorted(actor.groups))
    digest = hashlib.sha256(seeing.encode()).hexdigest()[:12]
    etag = f"states-{processes.published_stamp(session)}-{digest}"
    if request.if_none_match.contains(etag):
        response = make_response("", 304)
    else:
        response = make_response(_state_css(session, actor))
        response.mimetype = "text/css"
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _state_css(session: Any, actor: Actor) -> str:
    # Process names and state ids are [a-z][a-z0-9_]* and colours #rrggbb (the definition's
    # validator checks both), so nothing here can break out of a rule.
    return "".join(
        f".st-{name}-{version}-{state}{{--state-colour:{colour}}}\n"
        for name, version, state, colour in marks.state_colours(session, actor)
    )


@bp.app_template_global()
def state_class(ticket: Any, state: str | None = None) -> str:
    """The class of a state badge of ``ticket`` (its current state unless ``state``); a
    template global, so macros imported without context have it too."""
    return f"st-{ticket.process_name}-{ticket.process_version}-{state or ticket.state}"


# ------------------------------------------------------------------ the agent's profile


@bp.route("/profile", methods=["GET", "POST"])
def profile() -> Any:
    """The agent's own name and the language of the desk (the top bar links here)."""
    session = db()
    user = session.get(User, current_user.id)
    if user is None:
        abort(404)
    errors: dict[str, str] = {}
    values = {"display_name": user.display_name, "language": user.language}
    if request.method == "POST":
        values = {
            "display_name": request.form.get("display_name", ""),
            "language": request.form.get("language", ""),
        }
        try:
            users.update_profile(
                session, user, display_name=values["display_name"], language=values["language"]
            )
        except users.AccountInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            # The page after the redirect speaks the new language; this message too.
            with force_locale(user.language):
                flash(_("Your profile is saved."), "success")
            return redirect(url_for("desk.profile"))
    return (
        render_template(
            "desk/profile.html", values=values, errors=errors, language_names=LANGUAGES
        ),
        422 if errors else 200,
    )
