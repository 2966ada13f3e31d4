"""Tickets in relation to each other on the desk: merge this ticket into another, link it,
tag it; delete it (admins)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for

from statemachines.rights import ACT, DELETE_TICKETS, holds
from tempodesk.contracts import (
    LINK_KINDS,
    UPDATE_LINK_TICKET,
    UPDATE_TAG_TICKET,
    LinkTicketResult,
    TagTicketResult,
)
from tempodesk.core.models import Ticket
from tempodesk.core.temporal import (
    EngineUnavailable,
    MergeRefused,
    RelationRefused,
    TicketNotFound,
)
from tempodesk.privacy import forget
from tempodesk.tickets import queries, relations, splitting, tags
from web import db, release_db, runtime
from web.desk.common import REQUEST_ID, bp, current_actor
from web.i18n import gettext as _
from web.i18n import translate_message


@bp.route("/tickets/<number>/merge", methods=["POST"])
def merge(number: str) -> Any:
    """Merge this ticket into the one named in the form; the survivor's page follows."""
    actor = current_actor()
    request_id = request.form.get("request_id", "")
    try:
        ask = relations.merge_request(db(), actor, number, request.form.get("into", ""))
    except TicketNotFound:
        abort(404)
    except relations.MergeInvalid as exc:
        flash(translate_message(str(exc)), "error")
        return redirect(url_for("desk.ticket", number=number), 303)
    if ask is None:  # merged into that ticket already (sent twice)
        return redirect(url_for("desk.ticket", number=request.form.get("into", "").strip()), 303)
    release_db()
    try:
        runtime().temporal.merge_ticket(
            number,
            ask,
            f"merge-{actor.username}-{request_id}" if REQUEST_ID.match(request_id) else None,
        )
    except MergeRefused as exc:
        flash(translate_message(str(exc)), "error")
        return redirect(url_for("desk.ticket", number=number), 303)
    except EngineUnavailable:
        flash(_("The ticket engine did not answer in time."), "error")
        return redirect(url_for("desk.ticket", number=number), 303)
    flash(_("%(number)s is merged into this ticket.", number=number), "success")
    return redirect(url_for("desk.ticket", number=ask.into), 303)


def _back(number: str) -> Any:
    return redirect(url_for("desk.ticket", number=number), 303)


def _ask(number: str, update: str, ask: Any, result_type: type, request_id: str) -> bool:
    """Ask the ticket (a link or tags); flash why not. True: done."""
    release_db()
    try:
        runtime().temporal.relate(
            number, update, ask, result_type, request_id if REQUEST_ID.match(request_id) else None
        )
    except RelationRefused as exc:
        flash(translate_message(str(exc)), "error")
        return False
    except EngineUnavailable:
        flash(_("The ticket engine did not answer in time."), "error")
        return False
    return True


@bp.route("/tickets/<number>/links", methods=["POST"])
def link(number: str) -> Any:
    """Link this ticket to another (or unlink: ``remove``); both pages show it."""
    if not holds(current_actor(), ACT):
        abort(403)
    actor, form = current_actor(), request.form
    try:
        ask = relations.link_request(
            db(),
            actor,
            number,
            form.get("ticket", ""),
            form.get("kind", "related"),
            remove=bool(form.get("remove")),
            wait=bool(form.get("wait")),
        )
    except TicketNotFound:
        abort(404)
    except relations.LinkInvalid as exc:
        flash(translate_message(str(exc)), "error")
        return _back(number)
    request_id = f"link-{actor.username}-{form.get('request_id', '')}"
    if _ask(number, UPDATE_LINK_TICKET, ask, LinkTicketResult, request_id):
        flash(_("Unlinked.") if ask.remove else _("Linked."), "success")
    return _back(number)


@bp.route("/tickets/<number>/tags", methods=["POST"])
def tag(number: str) -> Any:
    """Add the tags typed (separated by commas), or remove one (``remove``)."""
    if not holds(current_actor(), ACT):
        abort(403)
    actor, form = current_actor(), request.form
    if queries.find_ticket(db(), number, actor) is None:
        abort(404)
    try:
        ask = tags.tag_request(db(), actor, form.get("add", ""), form.get("remove", ""))
    except tags.TagsInvalid as exc:
        flash(_(exc.template, **exc.params), "error")
        return _back(number)
    request_id = f"tag-{actor.username}-{form.get('request_id', '')}"
    _ask(number, UPDATE_TAG_TICKET, ask, TagTicketResult, request_id)
    return _back(number)


@bp.route("/tickets/<number>/delete", methods=["POST"])
def delete(number: str) -> Any:
    """Delete this ticket for good (admins; spam, a test): asked to confirm by its number."""
    actor = current_actor()
    if not holds(actor, DELETE_TICKETS):
        abort(403)
    if queries.find_ticket(db(), number, actor) is None:
        abort(404)
    if request.form.get("confirm", "").strip() != number:
        flash(_("Type the ticket's number to delete it."), "error")
        return _back(number)
    release_db()
    services = runtime()
    try:
        forget.delete_ticket_everywhere(
            services.sessions,
            number,
            services.temporal.delete_workflows,
            actor=actor,
            unlink=relations.unlinker(services.temporal),
        )
    except EngineUnavailable:
        flash(_("The ticket engine did not answer in time."), "error")
        return _back(number)
    flash(_("Ticket %(number)s is deleted.", number=number), "success")
    return redirect(url_for("desk.index"), 303)


@bp.app_context_processor
def _relation_helpers() -> dict[str, Any]:
    def ticket_relations(ticket: Ticket) -> dict[str, Any]:
        return {
            "links": relations.links_of(db(), ticket.number),
            "curated": [t.name for t in tags.curated(db())],
            "kinds": LINK_KINDS,
        }

    return {"ticket_relations": ticket_relations}


@bp.route("/tickets/<number>/split", methods=["POST"])
def split(number: str) -> Any:
    """Split a customer's message off into a new ticket; the new ticket's page follows."""
    if not holds(current_actor(), ACT):
        abort(403)
    actor = current_actor()
    try:
        message_id = int(request.form.get("message_id", ""))
    except ValueError:
        abort(400)
    request_id = request.form.get("request_id", "")
    release_db()
    services = runtime()
    try:
        new = splitting.split(
            services.intake,
            services.temporal,
            actor,
            number,
            message_id,
            f"split-{actor.username}-{request_id}" if REQUEST_ID.match(request_id) else None,
        )
    except TicketNotFound:
        abort(404)
    except (splitting.SplitInvalid, RelationRefused) as exc:
        flash(translate_message(str(exc)), "error")
        return _back(number)
    except EngineUnavailable:
        flash(_("The ticket engine did not answer in time."), "error")
        return _back(number)
    flash(_("The message is split off %(number)s into this ticket.", number=number), "success")
    return redirect(url_for("desk.ticket", number=new), 303)
