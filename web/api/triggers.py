"""Triggers in REST API v1 (admins): read them all, replace them all (in order). A change is
told to every open ticket (the signal ``triggers_changed``)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy.orm import Session

from tempodesk.contracts.triggers import TriggersChangedInput
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.routing import triggers
from web import db, error_response, release_db, runtime
from web.api.common import api_user, bp, json_body


@bp.before_request
def _admins_only() -> Any:
    if (request.endpoint or "").startswith("api.trigger") and not api_user().is_admin:
        return error_response(403, "forbidden", "Triggers are for admins.")
    return None


@bp.route("/triggers", methods=["GET"])
def triggers_list() -> Any:
    return jsonify({"triggers": [triggers.as_json(t) for t in triggers.every(db())]})


@bp.route("/triggers", methods=["PUT"])
def triggers_replace() -> Any:
    """``{"triggers": [...]}`` in place of every trigger; 422 by item if one is not valid."""
    body = json_body()
    session = db()
    try:
        rows = triggers.replace_all(session, body.get("triggers"), api_user().username)
    except triggers.TriggersInvalid as exc:
        session.rollback()
        return error_response(422, "invalid", "Some triggers are not valid.", fields=exc.errors)
    stored = [triggers.as_json(r) for r in rows]
    return jsonify({"triggers": stored, "open_tickets_told": commit_and_tell(session)})


def commit_and_tell(session: Session) -> bool:
    """Commit the saved triggers and tell every open ticket the new list (False: Temporal is
    away; stored, tickets opened from now on run them, open ones keep theirs)."""
    change = TriggersChangedInput(triggers.active(session))
    numbers = triggers.open_numbers(session)
    session.commit()
    release_db()
    try:
        runtime().temporal.triggers_changed(numbers, change)
    except EngineUnavailable:
        return False
    return True
