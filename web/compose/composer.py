"""The composer of the ticket page: what an action's form needs beyond the action itself.

- Canned answers and email templates rendered for *this* ticket, to insert into a reply or a
  note (``compose.js`` fetches them; without JavaScript the Insert button adds the text to the
  agent's draft and reloads the page).
- Drafts of an action's form, saved as the agent types and deleted by a successful action
  (``tempodesk.tickets.composer``), discarded with a button.

Thin views: the rules live in ``tempodesk.messaging.canned`` and ``tempodesk.tickets.composer``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_login import current_user

from statemachines import ActionSpec, FieldErrors
from tempodesk.core.models import CannedAnswer, Ticket
from tempodesk.knowledge import links as kb_links
from tempodesk.mail import mailboxes
from tempodesk.messaging import canned
from tempodesk.messaging.sandbox import TemplateProblem
from tempodesk.telephony import sms
from tempodesk.tickets import composer, processes, queries
from web import db, runtime
from web.compose.common import bp, current_actor
from web.i18n import gettext as _
from web.i18n import translate_message
from web.kb import tickets as kb_tickets


@dataclass
class Composer:
    """What the action forms of a ticket page need beyond the action itself."""

    canned: list[CannedAnswer]
    templates: list[tuple[str, str]]
    drafts: dict[str, dict[str, Any]]
    sender: mailboxes.ReplySender
    customer_email: str
    max_attachment_mb: float
    roles: dict[str, dict[str, str]] = field(default_factory=dict)
    sms_to: str = ""  # the customer's mobile number, where a reply may go as an SMS

    def roles_of(self, action: ActionSpec) -> dict[str, str]:
        if action.id not in self.roles:
            self.roles[action.id] = composer.field_roles(action)
        return self.roles[action.id]

    def has_text(self, action: ActionSpec) -> bool:
        return any(f.type == "longtext" for f in action.fields)


@bp.app_context_processor
def _composer_helpers() -> dict[str, Any]:
    return {"composer": _composer}


def _composer(ticket: Ticket) -> Composer:
    session = db()
    settings = runtime().settings
    return Composer(
        canned=canned.visible_to(session, current_actor()),
        templates=canned.email_templates(session),
        drafts=composer.drafts_for(session, current_user.username, ticket.number),
        sender=mailboxes.reply_sender(session, settings, ticket),
        customer_email=ticket.customer_email,  # where the workflow sends a reply
        max_attachment_mb=settings.max_attachment_bytes / (1024 * 1024),
        sms_to=sms_reply_number(ticket),
    )


def sms_reply_number(ticket: Ticket) -> str:
    """Where a reply may go as an SMS: the customer's mobile, if a gateway is configured."""
    session = db()
    if not sms.sending_enabled(session):
        return ""
    return composer.sms_number(session, ticket, runtime().settings.phone_region)


def _visible_ticket(number: str) -> Ticket:
    ticket = queries.find_ticket(db(), number, current_actor())
    if ticket is None:
        abort(404)
    return ticket


def _action_of(ticket: Ticket, action_id: str) -> ActionSpec:
    definition = processes.definition(db(), ticket.process_name, ticket.process_version)
    action = definition.action(action_id)
    if action is None:
        abort(404)
    return action


def _render_insert(ticket: Ticket, choice: str) -> str:
    """The text of "canned:<id>", "template:<name>" or a knowledge-base article ("kb:<id>"
    its text, "kblink:<id>" its link) for this ticket (404 if not offered)."""
    kind, _colon, key = choice.partition(":")
    if kind == "canned" and key.isdigit():
        answer = canned.get_visible(db(), current_actor(), int(key))
        if answer is None:
            abort(404)
        return canned.render_for_ticket(
            db(), answer.body, ticket, settings=runtime().settings, agent=current_user
        )
    if kind in ("kb", "kblink") and key.isascii() and key.isdigit() and len(key) < 10:
        article_text = kb_tickets.insert_text(kind, int(key))
        if article_text is None:
            abort(404)
        return article_text
    if kind == "template" and key:
        text = canned.render_template_for_ticket(
            db(), key, ticket, settings=runtime().settings, agent=current_user
        )
        if text is None:
            abort(404)
        return text
    abort(404)


def _insert_json(number: str, choice: str) -> Any:
    ticket = _visible_ticket(number)
    try:
        text = _render_insert(ticket, choice)
    except TemplateProblem as exc:
        return jsonify({"error": {"code": "template", "message": str(exc)}}), 422
    response = jsonify({"text": text})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tickets/<number>/canned/<int:answer_id>")
def canned_text(number: str, answer_id: int) -> Any:
    """A canned answer rendered for this ticket, as plain text in JSON."""
    return _insert_json(number, f"canned:{answer_id}")


@bp.route("/tickets/<number>/template/<name>")
def template_text(number: str, name: str) -> Any:
    """An email template's body rendered for this ticket, as plain text in JSON."""
    return _insert_json(number, f"template:{name}")


@bp.route("/tickets/<number>/drafts/<action_id>", methods=["POST"])
def draft_save(number: str, action_id: str) -> Any:
    """Keep what the agent typed into an action's form (JSON: {"fields": {...}})."""
    ticket = _visible_ticket(number)
    action = _action_of(ticket, action_id)
    body = request.get_json(silent=True)
    try:
        fields = composer.clean_draft(
            action, body.get("fields") if isinstance(body, dict) else None
        )
    except FieldErrors as exc:
        return jsonify(
            {
                "error": {
                    "code": "invalid",
                    "message": "; ".join(translate_message(e) for e in exc.errors.values()),
                }
            }
        ), 422
    kept = composer.save_draft(db(), current_user.username, ticket.number, action.id, fields)
    db().commit()
    return jsonify({"saved": kept})


@bp.route("/tickets/<number>/drafts/<action_id>/discard", methods=["POST"])
def draft_discard(number: str, action_id: str) -> Any:
    """Throw the draft away (the "Discard draft" button of an action's form)."""
    ticket = _visible_ticket(number)
    composer.discard_draft(db(), current_user.username, ticket.number, action_id)
    db().commit()
    flash(_("The draft is discarded."), "success")
    return redirect(url_for("desk.ticket", number=ticket.number))


@bp.route("/tickets/<number>/drafts/<action_id>/insert", methods=["POST"])
def draft_insert(number: str, action_id: str) -> Any:
    """Without JavaScript: add the chosen canned answer or template to the field's text,
    keep the whole form as the draft, and show the ticket with that form open."""
    ticket = _visible_ticket(number)
    action = _action_of(ticket, action_id)
    target = action.field(request.form.get("compose_target", ""))
    if target is None or target.type != "longtext":
        abort(400)
    choice = request.form.get(f"compose_insert_{target.id}", "")
    try:
        text = _render_insert(ticket, choice)
    except TemplateProblem as exc:
        flash(_("The text cannot be inserted: %(problem)s", problem=str(exc)), "error")
        return redirect(url_for("desk.ticket", number=ticket.number))
    raw: dict[str, Any] = {
        spec.id: request.form.getlist(spec.id)
        if spec.type == "multiselect"
        else request.form.get(spec.id, "")
        for spec in action.fields
    }
    current = str(raw.get(target.id) or "").rstrip()
    raw[target.id] = f"{current}\n\n{text}" if current else text
    try:
        fields = composer.clean_draft(action, raw)
    except FieldErrors as exc:
        flash("; ".join(translate_message(e) for e in exc.errors.values()), "error")
        return redirect(url_for("desk.ticket", number=ticket.number))
    composer.save_draft(db(), current_user.username, ticket.number, action.id, fields)
    kind, _colon, key = choice.partition(":")
    if kind in ("kb", "kblink"):  # an article inserted into a reply is linked to the ticket
        kb_links.link(db(), ticket.number, int(key), by=current_user.username)
    db().commit()
    return redirect(url_for("desk.ticket", number=ticket.number, _anchor=f"action-{action.id}"))
