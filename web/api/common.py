"""What every endpoint of REST API v1 shares: the blueprint, bearer-token sign-in, JSON bodies and
JSON errors.

Errors are ``{"error": {"code": ..., "message": ...}}`` with the HTTP status saying which kind.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import BadRequest

from tempodesk.contracts import Actor
from tempodesk.core.models import User
from tempodesk.people import accounts
from web import db, error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
    scope = "inbound" if request.endpoint == "api.inbound_email" else "api"
    user = accounts.user_for_token(db(), token.strip(), scope)
    if user is None:
        return error_response(401, "unauthorized", "The API token is not valid.")
    if db().dirty:
        try:
            db().commit()  # last_used_at, refreshed at most every few minutes
        except DBAPIError:
            # A read-only (or failing) database: a bookkeeping write must not stop a read.
            # A request that writes meets the same error again and answers 503.
            db().rollback()
    g.api_user = user
    g.api_actor = accounts.actor_for(user)
    return None


def api_user() -> User:
    user: User = g.api_user
    return user


def api_actor() -> Actor:
    actor: Actor = g.api_actor
    return actor


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


def text_field(body: dict[str, Any], key: str, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiInvalid(
            "invalid", f"'{key}' must be a string.", 422, fields={key: "Must be a string."}
        )
    return value
