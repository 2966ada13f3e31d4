"""Tickets in relation to each other in REST API v1: merge one into another, link them,
tag them; delete one (admins)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import jsonify, request

from statemachines.rights import DELETE_TICKETS
from tempodesk.contracts import (
    UPDATE_LINK_TICKET,
    UPDATE_TAG_TICKET,
    LinkTicketResult,
    TagTicketResult,
)
from tempodesk.core.temporal import (
    EngineUnavailable,
    MergeRefused,
    RelationRefused,
    TicketNotFound,
)
from tempodesk.privacy import forget
from tempodesk.tickets import relations, splitting, tags
from web import db, error_response, release_db, runtime
from web.api.common import (
    ApiInvalid,
    api_actor,
    api_user,
    bp,
    json_body,
    refuse_read_only,
    text_field,
)
from web.api.tickets import _detail, _outcome_unknown, _visible
from web.edges import MAX_ID


@bp.route("/tickets/<number>/merge", methods=["POST"])
def merge_ticket(number: str) -> Any:
    """Merge ticket ``number`` into ``{"into": "<number>"}``: its messages and events show on
    that ticket, it ends in the state ``merged`` and answers with ``merged_into``."""
    refuse_read_only()
    body = json_body()
    into = text_field(body, "into")
    if not into:
        raise ApiInvalid("invalid", "'into' (a ticket number) is required.", 422)
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        request_id = uuid.uuid4().hex
    actor = api_actor()
    try:
        ask = relations.merge_request(db(), actor, number, into)
    except TicketNotFound:
        raise ApiInvalid("not_found", f"No ticket {number} (or you may not see it).", 404) from None
    except relations.MergeInvalid as exc:
        return error_response(409, "merge_refused", str(exc))
    if ask is None:  # merged into that ticket already: a retry
        return jsonify({"merged_into": into, "ticket": _detail(_visible(into))})
    release_db()
    try:
        runtime().temporal.merge_ticket(
            number, ask, f"api-merge-{actor.username}-{request_id}"[:200]
        )
    except MergeRefused as exc:
        return error_response(409, "merge_refused", str(exc))
    except EngineUnavailable:
        return _outcome_unknown(request_id)
    return jsonify({"merged_into": ask.into, "ticket": _detail(_visible(ask.into))})


def _request_id(body: dict[str, Any], what: str) -> str:
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        request_id = uuid.uuid4().hex
    return f"api-{what}-{api_actor().username}-{request_id}"[:200]


def _relate(number: str, update: str, ask: Any, result_type: type, request_id: str) -> Any:
    """Ask the ticket; its detail (with tags and links), or the refusal as 409."""
    release_db()
    try:
        runtime().temporal.relate(number, update, ask, result_type, request_id)
    except RelationRefused as exc:
        return error_response(409, "refused", str(exc))
    except EngineUnavailable:
        return _outcome_unknown(request_id)
    return jsonify({"ticket": _detail(_visible(number))})


@bp.route("/tickets/<number>/links", methods=["POST", "DELETE"])
def link_ticket(number: str) -> Any:
    """Link ticket ``number`` to ``{"ticket", "kind"}`` (the other is this one's related,
    duplicate_of, duplicated_by, parent or child; ``"wait": true`` on a child: this parent
    is not resolved before it), or unlink it (DELETE)."""
    refuse_read_only()
    body = json_body()
    other = text_field(body, "ticket")
    if not other:
        raise ApiInvalid("invalid", "'ticket' (a ticket number) is required.", 422)
    kind = text_field(body, "kind") or ("" if request.method == "DELETE" else "related")
    try:
        ask = relations.link_request(
            db(),
            api_actor(),
            number,
            other,
            kind,
            remove=request.method == "DELETE",
            wait=body.get("wait") is True,
        )
    except TicketNotFound:
        raise ApiInvalid("not_found", f"No ticket {number} (or you may not see it).", 404) from None
    except relations.LinkInvalid as exc:
        return error_response(409, "refused", str(exc))
    request_id = _request_id(body, "link")
    return _relate(number, UPDATE_LINK_TICKET, ask, LinkTicketResult, request_id)


@bp.route("/tickets/<number>/tags", methods=["POST", "DELETE"])
def tag_ticket(number: str) -> Any:
    """Add ``{"tags": [...]}`` to ticket ``number`` (POST) or remove them (DELETE)."""
    refuse_read_only()
    body = json_body()
    given = body.get("tags")
    if not isinstance(given, list) or not all(isinstance(t, str) for t in given):
        raise ApiInvalid("invalid", "'tags' is a list of texts.", 422)
    _visible(number)
    removing = request.method == "DELETE"
    try:
        ask = tags.tag_request(
            db(), api_actor(), [] if removing else given, given if removing else []
        )
    except tags.TagsInvalid as exc:
        raise ApiInvalid("invalid", str(exc), 422) from None
    request_id = _request_id(body, "tag")
    return _relate(number, UPDATE_TAG_TICKET, ask, TagTicketResult, request_id)


@bp.route("/tickets/<number>", methods=["DELETE"])
def delete_ticket(number: str) -> Any:
    """Delete a ticket for good (admins): its workflow, messages, files, timeline, search."""
    if DELETE_TICKETS not in api_user().rights:
        return error_response(403, "forbidden", "Deleting tickets needs the delete_tickets right.")
    _visible(number)
    release_db()
    services = runtime()
    try:
        done = forget.delete_ticket_everywhere(
            services.sessions,
            number,
            services.temporal.delete_workflows,
            actor=api_actor(),
            unlink=relations.unlinker(services.temporal),
        )
    except EngineUnavailable:
        return _outcome_unknown(uuid.uuid4().hex)
    if done is None:
        raise ApiInvalid("not_found", f"No ticket {number}.", 404)
    return jsonify({"deleted": done.tickets})


@bp.route("/tickets/<number>/split", methods=["POST"])
def split_ticket(number: str) -> Any:
    """Split the customer's message ``{"message_id"}`` off ticket ``number`` into a new
    ticket (same customer); the message moves there with its files and mail threading."""
    refuse_read_only()
    body = json_body()
    message_id = body.get("message_id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise ApiInvalid("invalid", "'message_id' (a message's id) is required.", 422)
    if not 0 < message_id <= MAX_ID:  # a database integer (schemathesis sent 2**31)
        raise ApiInvalid("refused", "There is no such customer message on this ticket.", 409)
    request_id = _request_id(body, "split")
    release_db()
    services = runtime()
    try:
        new = splitting.split(
            services.intake, services.temporal, api_actor(), number, message_id, request_id
        )
    except TicketNotFound:
        raise ApiInvalid("not_found", f"No ticket {number} (or you may not see it).", 404) from None
    except splitting.SplitInvalid as exc:
        return error_response(409, "refused", str(exc))
    except RelationRefused as exc:
        return error_response(409, "refused", str(exc))
    except EngineUnavailable:
        return _outcome_unknown(request_id)
    return jsonify({"split_from": number, "ticket": _detail(_visible(new))}), 201
