"""The codec server for the Temporal UI: ``POST /codec/decode`` (and ``/codec/encode``) apply
the payload codec (``tempodesk.core.codec``) so that an operator reads encrypted workflow
payloads in the Temporal UI (Settings → Codec Server: this app's URL + ``/codec``, with
"Include cross-origin credentials" on).

It is a door to every payload, so it is behind this app's own sign-in: a signed-in **admin**
(the UI's fetch carries the session cookie) or a bearer token with the ``ops`` scope — never
loopback alone. The protocol is Temporal's: a JSON body ``{"payloads": [...]}`` of payloads in
protobuf's JSON mapping, answered in the same shape. Cross-origin calls are allowed from the
Temporal UI's origin only (``TEMPODESK_TEMPORAL_UI_URL``, else the embedded UI's port on
127.0.0.1), with credentials; a request naming another origin is refused before anything is
decoded. No CSRF token: the body must be JSON (a cross-site form cannot send it without a
preflight, which only the UI's origin passes) and the origin is checked.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from temporalio.api.common.v1 import Payload

from tempodesk.core.codec import CodecKeyError, EncryptionCodec, parse_keys
from tempodesk.people import accounts
from web import db, runtime
from web.health import OPS_SCOPE

bp = Blueprint("codec", __name__, url_prefix="/codec")
log = logging.getLogger(__name__)

#: At most this many payloads in one call (the UI sends one page of a history's payloads).
MAX_PAYLOADS = 1000


def ui_origin() -> str:
    """The origin (scheme://host:port) of the Temporal UI that may call the codec."""
    parts = urlsplit(runtime().settings.temporal_ui)
    return f"{parts.scheme}://{parts.netloc}"


def _cors(response: Response) -> Response:
    if request.headers.get("Origin") == ui_origin():
        response.headers["Access-Control-Allow-Origin"] = ui_origin()
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Content-Type, Authorization, X-Namespace"
        )
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Vary"] = "Origin"
    return response


def _refused(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return _cors(response)


def _allowed() -> bool:
    if current_user.is_authenticated and current_user.is_admin:
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return (
        scheme.lower() == "bearer"
        and bool(token)
        and accounts.user_for_token(db(), token, OPS_SCOPE) is not None
    )


def _payloads() -> list[Payload] | None:
    body = request.get_json(silent=True) if request.is_json else None
    items = body.get("payloads") if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) > MAX_PAYLOADS:
        return None
    try:
        return [ParseDict(item, Payload()) for item in items]
    except (ParseError, TypeError, ValueError, AttributeError):
        return None


def _apply(decode: bool) -> Response:
    origin = request.headers.get("Origin")
    if origin is not None and origin != ui_origin():
        return _refused(403, "This origin may not use the codec.")
    if request.method == "OPTIONS":
        return _cors(Response(status=204))
    if not _allowed():
        return _refused(403, "Sign in as an admin, or use a token with the ops scope.")
    keys = parse_keys(runtime().settings.payload_keys)
    if not keys:
        return _refused(404, "Payload encryption is off (TEMPODESK_PAYLOAD_KEYS is empty).")
    payloads = _payloads()
    if payloads is None:
        return _refused(400, 'Send JSON {"payloads": [...]} (at most 1000).')
    codec = EncryptionCodec(keys)
    try:
        done = codec.decode_now(payloads) if decode else codec.encode_now(payloads)
    except (CodecKeyError, InvalidTag) as exc:
        log.warning("codec: a payload could not be decoded: %s", type(exc).__name__)
        return _refused(422, "A payload was encrypted with an unknown key or was altered.")
    return _cors(jsonify({"payloads": [MessageToDict(p) for p in done]}))


@bp.route("/decode", methods=["POST", "OPTIONS"])
def decode() -> Any:
    return _apply(decode=True)


@bp.route("/encode", methods=["POST", "OPTIONS"])
def encode() -> Any:
    return _apply(decode=False)
