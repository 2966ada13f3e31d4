"""The ticket page: its header (follow, unread, who else is here), the split view's
preview, the action buttons (each a Temporal Update), and the ticket's mail (raw source,
attachments as downloads, importing a saved .eml)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from statemachines import FieldErrors, ProcessDefinition, coerce_form
from tempodesk.core.models import Attachment, Channel, Group, InboundMessage, Message, Ticket
from tempodesk.core.temporal import ActionRejected, EngineUnavailable, TicketNotFound
from tempodesk.mail import trim_quoted
from tempodesk.mail.inbound import MailNotRouted
from tempodesk.tickets import forms, lists, marks, processes, queries, ratings
from web import db, release_db, runtime
from web.compose.composer import sms_reply_number
from web.desk.common import (
    REQUEST_ID,
    bp,
    current_actor,
    find_or_404,
    require_act,
    safe_next,
)
from web.i18n import gettext as _
from web.i18n import inbound_status, rejection_text, translate_message, translated_priorities
from web.uploads import uploaded_files

_STATUS_FOR = {"forbidden": 403, "invalid_fields": 422}


@bp.app_context_processor
def _ticket_header_helpers() -> dict[str, Any]:
    return {"ticket_header": _ticket_header, "presence_text": presence_text}


def _ticket_header(ticket: Ticket) -> marks.TicketHeader:
    """The ticket page's header: follow state and who else has the ticket open."""
    return marks.ticket_header(db(), current_actor(), ticket)


def presence_text(seen: marks.Seen) -> str:
    """What the ticket page says about another agent on the ticket."""
    if seen.activity == "composing":
        return _("%(agent)s is writing a reply", agent=seen.username)
    return _("%(agent)s is looking at this ticket", agent=seen.username)


@bp.route("/tickets/<number>/preview")
def preview(number: str) -> Any:
    """A ticket's header and last messages, for the split view's preview pane (HTML)."""
    view = queries.get_ticket(db(), number, current_actor())
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
    ticket = find_or_404(number)
    wanted = request.form.get("follow", "1") == "1"
    marks.set_following(db(), current_actor().username, ticket.number, wanted)
    db().commit()
    flash(
        _("You follow this ticket.") if wanted else _("You no longer follow this ticket."),
        "success",
    )
    return redirect(url_for("desk.ticket", number=ticket.number))


@bp.route("/tickets/<number>/unread", methods=["POST"])
def mark_unread(number: str) -> Any:
    ticket = find_or_404(number)
    marks.mark_unread(db(), current_actor().username, ticket.number)
    db().commit()
    flash(_("%(number)s is marked unread.", number=ticket.number), "success")
    return redirect(safe_next(url_for("desk.index")))


@bp.route("/tickets/<number>/presence", methods=["POST"])
def presence(number: str) -> Any:
    """The agent still has the ticket open (JSON ``{"activity": "viewing"|"composing"}``,
    plus ``"read": <event seq>`` once the page has loaded: it was read that far); answers
    with the other agents seen on it in the last minute. The ticket page's GET writes
    nothing, so a read-only database still serves it; its script posts here."""
    ticket = find_or_404(number)
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else request.form
    activity, read = body.get("activity"), body.get("read")
    actor = current_actor()
    try:
        if isinstance(read, int | str) and str(read).isdigit():
            marks.mark_read(db(), actor.username, ticket, upto=int(read))
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
    """The ticket page. It writes nothing: its script marks the ticket read and tells the
    others who is here (``presence``), so the desk reads on while the database takes no
    writes."""
    return _ticket_page(number)


def _ticket_page(
    number: str,
    *,
    open_action: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    request_id: str = "",
) -> Any:
    session = db()
    actor = current_actor()
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
            request_id=request_id or str(uuid.uuid4()),
            message_ids=queries.event_message_ids,
            trim=trim_quoted,
            state_label=lambda state_id: _state_label(view.definition, state_id),
            workflow_url=runtime().settings.workflow_url(view.ticket.workflow_id),
            field_labels=forms.labels(session, view.ticket.form),
            rating=ratings.latest(session, view.ticket),
        ),
        status,
    )


def _state_label(definition: ProcessDefinition, state_id: str) -> str:
    try:
        return definition.state(state_id).label
    except KeyError:
        return state_id


def _outcome_unknown(number: str, action_id: str, values: dict[str, Any], request_id: str) -> Any:
    """The engine did not answer and the action may have been performed: the form comes back
    under the same request id, so sending it again is performed at most once."""
    kept = request_id if REQUEST_ID.match(request_id) else ""
    flash(
        _(
            "The ticket engine did not answer; the action may have been done. Send it "
            "again to make sure: it is never done twice."
        ),
        "error",
    )
    return _ticket_page(number, open_action=action_id, values=values, status=503, request_id=kept)


def _minutes(text: str) -> int:
    """The optional "time spent" input: minutes (empty: 0); FieldErrors if not a number."""
    text = text.strip()
    if text and not text.isdigit():
        raise FieldErrors({"time_spent": _("Minutes as a whole number, e.g. 15.")})
    return int(text or 0)


@bp.route("/tickets/<number>/actions/<action_id>", methods=["POST"])
def perform(number: str, action_id: str) -> Any:
    session = db()
    actor = current_actor()
    # The row and its definition only: the timeline is read by the page the answer leads to.
    ticket = queries.find_ticket(session, number, actor)
    if ticket is None:
        abort(404)
    definition = processes.definition(session, ticket.process_name, ticket.process_version)
    action = definition.action(action_id)
    if action is None:
        flash(_("There is no action '%(action)s'.", action=action_id), "error")
        return _ticket_page(number, status=409)
    values = coerce_form(action, request.form.to_dict(flat=False))
    files = uploaded_files()  # the form's attachments (web/uploads.py); 413 if big
    request_id = request.form.get("request_id", "")
    expected_state = request.form.get("expected_state") or None
    sms_to = sms_reply_number(ticket) if request.form.get("reply_via") == "sms" else ""
    if request.form.get("reply_via") == "sms" and not sms_to:
        flash(_("The customer has no mobile number, or no SMS gateway is set up."), "error")
        return _ticket_page(number, open_action=action_id, values=values, status=422)
    try:
        result = runtime().actions.perform(
            actor,
            number,
            action_id,
            values,
            time_spent=_minutes(request.form.get("time_spent", "")),
            expected_state=expected_state,
            request_id=f"{actor.username}-{request_id}" if REQUEST_ID.match(request_id) else None,
            attachments=files,  # a successful action also deletes the agent's draft of it
            sms_to=sms_to,
            checks=session,  # checked in the request's session, closed before the Update
        )
    except TicketNotFound:
        abort(404)
    except EngineUnavailable:
        return _outcome_unknown(number, action_id, values, request_id)
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
    if queries.find_ticket(db(), message.ticket_number, current_actor()) is None:
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
    require_act(current_actor())
    ticket = queries.find_ticket(db(), number, current_actor())
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
    try:
        outcome = runtime().inbound.receive(mailbox, raw, source="import", into_ticket=number)
    except MailNotRouted as exc:  # stored; importing it again is the next attempt
        flash(_("The mail could not be read: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("desk.ticket", number=number))
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
