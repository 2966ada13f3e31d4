"""What the pages of the "compose" blueprint share: the blueprint itself (under /desk), its
sign-in rule, who is acting, and the request size limit of every endpoint that takes files.

The page modules register their routes on ``bp`` from here, never through the package
``web.compose``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_login import current_user, login_required

from tempodesk.contracts import Actor
from tempodesk.people import accounts
from web import runtime

bp = Blueprint("compose", __name__, url_prefix="/desk")

#: Endpoints that take files: their requests may be as large as ``max_upload_bytes``.
UPLOAD_ENDPOINTS = frozenset(
    {"desk.perform", "compose.draft_discard", "compose.draft_insert", "people.orders_import"}
)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in agent."""


@bp.app_url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Raise the request size limit for the endpoints that take files.

    URL value preprocessors run before every ``before_request`` function, CSRFProtect's
    included, which reads (and so parses) the form: a limit set in the view would be too late.
    """
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = runtime().settings.max_upload_bytes


def current_actor() -> Actor:
    """The signed-in agent as the workflows and queries know them."""
    return accounts.actor_for(current_user)
