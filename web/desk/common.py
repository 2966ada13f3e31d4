"""What every page of the desk shares: the blueprint (``desk``), its sign-in rule and the
small helpers the pages call (who is acting, a ticket the agent may see, where to go back).

The page modules register their routes on ``bp`` from here, never through the package
``web.desk``, so no page imports another to get at the blueprint."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from statemachines.rights import ACT, holds
from tempodesk.contracts import Actor
from tempodesk.people import accounts
from tempodesk.tickets import queries
from web import db

bp = Blueprint("desk", __name__, url_prefix="/desk")

#: What a form's request id may look like (it becomes part of an Update id).
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page of the desk needs a signed-in agent."""


def current_actor() -> Actor:
    """The signed-in agent as the workflows and queries know them."""
    return accounts.actor_for(current_user)


@bp.app_template_global()
def may_act() -> bool:
    """Whether the signed-in agent may act on tickets (the "New ticket" link; read-only
    roles go without)."""
    rights = getattr(current_user, "rights", None) if current_user.is_authenticated else None
    return rights is not None and ACT in rights


def require_act(actor: Actor) -> None:
    """403 for an agent whose roles let them read only (no right ``act``)."""
    if not holds(actor, ACT):
        abort(403)


def safe_next(default: str) -> str:
    """Where to go back to after a small form: a desk page, never another site."""
    target = request.form.get("next", "")
    if target.startswith("/desk/") and "//" not in target and "\\" not in target:
        return target
    return default


def find_or_404(number: str) -> Any:
    """The ticket ``number`` if the agent may see it; 404 otherwise (whether it exists or not)."""
    ticket = queries.find_ticket(db(), number, current_actor())
    if ticket is None:
        abort(404)
    return ticket
