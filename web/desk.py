"""The agent desk: ticket lists, the ticket page with its action buttons, caught mail."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from statemachines import PRIORITIES, FieldErrors, ProcessDefinition, coerce_form
from tempodesk import accounts, lists, queries
from tempodesk.client import ActionRejected, TicketNotFound
from tempodesk.contracts import Actor
from tempodesk.mail import trim_quoted
from tempodesk.mailsink import read_caught
from tempodesk.models import Attachment, Channel, Group, InboundMessage, Message
from web import db, release_db, runtime

bp = Blueprint("desk", __name__, url_prefix="/desk")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_STATUS_FOR = {"forbidden": 403, "invalid_fields": 422}


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page of the desk needs a signed-in agent."""


def _actor() -> Actor:
    return accounts.actor_for(current_user)


@bp.route("/")
def index() -> Any:
    actor = _actor()
    key = request.args.get("view", "view:open")
    if ":" not in key:
        key = f"view:{key}"  # the short form of the built-in views
    sort = request.args.get("sort", "newest")
    try:
        label, criteria = lists.criteria_of(db(), actor, key)
        page = lists.page(
            db(), actor, criteria, sort=sort, cursor=request.args.get("cursor") or None
        )
    except lists.BadQuery:
        abort(400)
    panel = [f"view:{v.key}" for v in lists.BUILT_IN]
    counts = {k: lists.count(db(), actor, lists.criteria_of(db(), actor, k)[1]) for k in panel[:4]}
    return render_template(
        "desk/list.html",
        page=page,
        view=key,
        label=label,
        sort=sort,
        panel=[(k, lists.criteria_of(db(), actor, k)[0]) for k in panel],
        counts=counts,
        priorities=PRIORITIES,
    )


@bp.route("/tickets/<number>")
def ticket(number: str) -> Any:
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
            priorities=PRIORITIES,
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
        flash(f"There is no action '{action_id}'.", "error")
        return _ticket_page(number, status=409)
    values = coerce_form(action, request.form.to_dict(flat=False))
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
        flash(exc.message, "error")
        return _ticket_page(
            number, open_action=action_id, values=values, status=_STATUS_FOR.get(exc.code, 409)
        )
    flash(f"{action.label}: done. The ticket is now “{result.state_label}”.", "success")
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
        flash("There is no mailbox to import mail into.", "error")
        return redirect(url_for("desk.ticket", number=number))
    request.max_content_length = runtime().settings.max_import_bytes
    upload = request.files.get("eml")
    if upload is None or not upload.filename:
        flash("Choose a .eml file to import.", "error")
        return redirect(url_for("desk.ticket", number=number))
    raw = upload.read()
    release_db()
    outcome = runtime().inbound.receive(mailbox, raw, source="import", into_ticket=number)
    if outcome.outcome == "follow_up" and outcome.ticket == number:
        flash("The mail was added to the ticket.", "success")
    elif outcome.outcome == "quarantined":
        flash(f"The mail could not be read: {outcome.reason}", "error")
    else:
        flash(
            f"The mail was not added here ({outcome.outcome}"
            + (f": {outcome.reason}" if outcome.reason else "")
            + ").",
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
