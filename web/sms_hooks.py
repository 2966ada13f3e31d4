"""What SMS providers call: inbound SMS at ``POST /hooks/sms/<provider>`` and delivery
reports at ``POST /hooks/sms/<provider>/status``.

Twilio's calls are forms signed with ``X-Twilio-Signature`` (the gateway's auth token over
the URL it called, ``TEMPODESK_BASE_URL`` + path + query, and the sorted parameters); the
generic provider's are JSON with ``Authorization: Bearer <token>`` of an API token with the
``sms`` scope. No cookies: exempt from CSRF like the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from tempodesk.core.db import transaction
from tempodesk.people import accounts
from tempodesk.telephony import sms
from tempodesk.telephony.sms_inbound import InboundSms, SmsInbound, SmsInvalid
from tempodesk.telephony.sms_providers import twilio_signature_valid
from tempodesk.tickets.intake import IntakeInvalid
from web import db, error_response, release_db, runtime

bp = Blueprint("sms_hooks", __name__, url_prefix="/hooks/sms")


def _twilio_form() -> dict[str, str] | None:
    """The posted form if Twilio's signature over it holds (the gateway's auth token)."""
    settings = runtime().settings
    config = sms.config(db(), settings)
    if config is None or config.provider != "twilio":
        return None
    form = {key: request.form.get(key, "") for key in request.form}
    url = settings.public_url + request.full_path.rstrip("?")
    signature = request.headers.get("X-Twilio-Signature", "")
    return form if twilio_signature_valid(url, form, config.secret, signature) else None


def _generic_json() -> dict[str, Any] | None:
    """The JSON body if it came with a token of the ``sms`` scope."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or accounts.user_for_token(db(), token.strip(), "sms") is None:
        return None
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _authenticated(provider: str) -> dict[str, Any] | None:
    if provider == "twilio":
        return _twilio_form()
    if provider == "generic":
        return _generic_json()
    return None


@bp.route("/<provider>", methods=["POST"])
def inbound(provider: str) -> Any:
    """An SMS a customer wrote: on their open ticket, or a new one (idempotent)."""
    data = _authenticated(provider)
    if data is None:
        return error_response(401, "unauthorized", "The request is not signed or authorised.")
    if provider == "twilio":
        message = InboundSms(
            "twilio",
            data.get("From", ""),
            data.get("To", ""),
            data.get("Body", ""),
            data.get("MessageSid", ""),
        )
    else:
        message = InboundSms(
            "generic",
            str(data.get("from") or ""),
            str(data.get("to") or ""),
            str(data.get("text") or ""),
            str(data.get("message_id") or ""),
        )
    release_db()
    rt = runtime()
    try:
        outcome = SmsInbound(rt.settings, rt.sessions, rt.intake, rt.actions).receive(message)
    except SmsInvalid as exc:
        return error_response(422, "invalid", str(exc))
    except IntakeInvalid as exc:
        return error_response(422, "invalid", "The SMS cannot be taken.", fields=exc.errors)
    if provider == "twilio":  # Twilio wants TwiML back: an empty answer sends no reply
        return "<Response/>", 200, {"Content-Type": "text/xml"}
    return jsonify({"outcome": outcome.outcome, "ticket": outcome.ticket}), 200


@bp.route("/<provider>/status", methods=["POST"])
def status(provider: str) -> Any:
    """A delivery report: the message moves forward, never back; a replay changes nothing."""
    data = _authenticated(provider)
    if data is None:
        return error_response(401, "unauthorized", "The request is not signed or authorised.")
    if provider == "twilio":
        provider_id, reported = data.get("MessageSid", ""), data.get("MessageStatus", "")
    else:
        provider_id, reported = str(data.get("id") or ""), str(data.get("status") or "")
    release_db()
    with transaction(runtime().sessions) as session:
        changed = sms.apply_status(
            session, str(provider_id), str(reported), request.args.get("ref", "")
        )
    return jsonify({"changed": changed}), 200
