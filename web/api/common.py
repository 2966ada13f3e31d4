"""What every endpoint of REST API v1 shares: the blueprint, bearer-token sign-in, JSON bodies and
JSON errors.

Errors are ``{"error": {"code": ..., "message": ...}}`` with the HTTP status saying which kind.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, current_app, g, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import BadRequest

from statemachines import REJECTION_TEXTS
from statemachines.rights import ACT, holds
from tempodesk.contracts import Actor
from tempodesk.core.models import User
from tempodesk.people.token_cache import TokenCache, TokenGrant
from tempodesk.tickets.intake import KEY_REUSED
from web import db, error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate() -> Any:
    if request.endpoint == "api.openapi":
        return None  # the description is public: it holds no data
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
    scope = "inbound" if request.endpoint == "api.inbound_email" else "api"
    # Remembered for a few seconds per token (TEMPODESK_API_TOKEN_CACHE_SECONDS): most
    # requests reach their endpoint without a database round trip.
    grant = token_cache().grant(db(), token.strip(), scope)
    if grant is None:
        return error_response(401, "unauthorized", "The API token is not valid.")
    session = g.get("db")
    if session is not None and session.dirty:
        try:
            session.commit()  # last_used_at, refreshed at most every few minutes
        except DBAPIError:
            # A read-only (or failing) database: a bookkeeping write must not stop a read.
            # A request that writes meets the same error again and answers 503.
            session.rollback()
    g.api_grant = grant
    g.api_actor = grant.actor_copy()
    return None


def token_cache() -> TokenCache:
    """The app's remembered API tokens (one per web process)."""
    cache: TokenCache = current_app.extensions["tempodesk_tokens"]
    return cache


def api_user() -> User:
    """The token's user, loaded when an endpoint needs more than its id, name and rights."""
    if "api_user" not in g:
        grant: TokenGrant = g.api_grant
        user = db().get(User, grant.user_id)
        if user is None:  # removed since the token was checked
            raise ApiInvalid("unauthorized", "The API token is not valid.", 401)
        g.api_user = user
    found: User = g.api_user
    return found


def api_user_id() -> int:
    grant: TokenGrant = g.api_grant
    return grant.user_id


def api_actor() -> Actor:
    actor: Actor = g.api_actor
    return actor


def refuse_read_only() -> None:
    """403 for a token whose user may not act (a read-only role): they only read."""
    if not holds(api_actor(), ACT):
        raise ApiInvalid("forbidden", REJECTION_TEXTS["read_only"], 403)


def json_body() -> dict[str, Any]:
    if not request.is_json:
        raise ApiInvalid("bad_request", "Send a JSON body with 'Content-Type: application/json'.")
    try:
        body = request.get_json()
    except BadRequest:
        raise ApiInvalid("bad_request", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiInvalid("bad_request", "The body must be a JSON object.")
    return body


class ApiInvalid(Exception):
    def __init__(self, code: str, message: str, status: int = 400, **extra: Any):
        self.code, self.message, self.status, self.extra = code, message, status, extra


@bp.errorhandler(ApiInvalid)
def _answer_invalid(exc: ApiInvalid) -> Any:
    return error_response(exc.status, exc.code, exc.message, **exc.extra)


def fingerprint(body: dict[str, Any]) -> str:
    """The request as a hash (its path and its JSON, keys sorted): an idempotency key answers
    only the request that used it first."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{request.path}\n{canonical}".encode()).hexdigest()


#: Longest idempotency key a client may send (stored with a prefix in VARCHAR(200)).
MAX_KEY = 150


def idempotency_key(body: dict[str, Any]) -> str:
    key = text_field(body, "idempotency_key")
    if len(key) > MAX_KEY:
        raise ApiInvalid(
            "invalid",
            f"'idempotency_key' is at most {MAX_KEY} characters.",
            422,
            fields={"idempotency_key": f"At most {MAX_KEY} characters."},
        )
    return key


def key_reused() -> Any:
    return error_response(
        422,
        "idempotency_key_reused",
        "This idempotency key was used for a different request; use a new key.",
        fields={"idempotency_key": KEY_REUSED},
    )


def text_field(body: dict[str, Any], key: str, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiInvalid(
            "invalid", f"'{key}' must be a string.", 422, fields={key: "Must be a string."}
        )
    return value
