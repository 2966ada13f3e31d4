"""Routing rules in the REST API (admins only): ``GET``/``POST /api/v1/routing/rules``,
``GET``/``PUT``/``DELETE /api/v1/routing/rules/<id>``. A body is ``{"name", "position",
"conditions": [{"field", "op", "value"}], "set": {...}, "stop"?, "enabled"?}``."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from tempodesk.core.models import RoutingRule
from tempodesk.routing import store
from web import db, error_response
from web.api.common import ApiInvalid, api_user, bp, json_body


@bp.before_request
def _admins_only() -> Any:
    if (request.endpoint or "").startswith("api.routing") and not api_user().is_admin:
        return error_response(403, "forbidden", "Routing rules are for admins.")
    return None


def _invalid(exc: store.RuleProblems) -> Any:
    fields = {str(i): p for i, p in enumerate(exc.problems)}
    return error_response(422, "invalid", " ".join(exc.problems), fields=fields)


@bp.route("/routing/rules", methods=["GET"])
def routing_rules() -> Any:
    return jsonify([store.rule_doc(r) for r in store.rules(db())])


@bp.route("/routing/rules", methods=["POST"])
def routing_rule_create() -> Any:
    session = db()
    try:
        rule = store.save_rule(session, json_body(), api_user().username)
    except store.RuleProblems as exc:
        session.rollback()
        return _invalid(exc)
    session.commit()
    return jsonify(store.rule_doc(rule)), 201


# One rule for every method of the address (Werkzeug would answer 405 for a huge id).
@bp.route("/routing/rules/<int:rule_id>", methods=["GET", "PUT", "DELETE"])
def routing_rule(rule_id: int) -> Any:
    session = db()
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise ApiInvalid("not_found", "No such routing rule.", 404)
    if request.method == "GET":
        return jsonify(store.rule_doc(rule))
    if request.method == "DELETE":
        store.delete_rule(session, rule_id, api_user().username)
        session.commit()
        return "", 204
    try:
        store.save_rule(session, json_body(), api_user().username, rule)
    except store.RuleProblems as exc:
        session.rollback()
        return _invalid(exc)
    session.commit()
    return jsonify(store.rule_doc(rule))
