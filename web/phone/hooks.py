"""The cloud PBX's call events: ``POST /hooks/cti/<provider>``, signed with HMAC-SHA256
(``tempodesk.telephony.cti``). No session and no CSRF token: the signature is the proof."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request

from tempodesk.telephony import calls, cti
from web import runtime
from web.phone.common import hooks_bp


@hooks_bp.route("/hooks/cti/<provider>", methods=["POST"])
def cti_event(provider: str) -> Any:
    settings = runtime().settings
    if not settings.cti_provider or provider != settings.cti_provider or not settings.cti_secret:
        abort(404)
    body = request.get_data(cache=False)
    if not cti.verify(settings.cti_secret, body, request.headers.get(cti.SIGNATURE_HEADER, "")):
        return jsonify({"error": {"code": "unauthorized", "message": "Bad signature."}}), 401
    try:
        event = cti.parse_event(body)
    except cti.CtiRefused as exc:
        return jsonify({"error": {"code": "bad_request", "message": str(exc)}}), 400
    calls.apply_events(runtime().sessions, event, "cti")
    return "", 204
