"""Tickets in relation to each other in REST API v1: merge one into another."""

from __future__ import annotations

import uuid
from typing import Any

from flask import jsonify

from tempodesk.core.temporal import EngineUnavailable, MergeRefused, TicketNotFound
from tempodesk.tickets import relations
from web import db, error_response, release_db, runtime
from web.api.common import ApiInvalid, api_actor, bp, json_body, refuse_read_only, text_field
from web.api.tickets import _detail, _outcome_unknown, _visible


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
