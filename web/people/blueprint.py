"""The ``people`` blueprint (the desk's customer pages under ``/desk``) and what its pages
share: every page needs a signed-in agent; the acting agent and a list's page number; the
ticket page's customer panel (the template helper ``customer_panel``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from tempodesk.contracts import Actor
from tempodesk.core.models import Ticket
from tempodesk.people import accounts
from tempodesk.people import contacts as contact_store
from tempodesk.tickets import customer_scope, queries
from web import db
from web.edges import id_arg

bp = Blueprint("people", __name__, url_prefix="/desk")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in agent."""


def current_actor() -> Actor:
    """The signed-in agent as the people and ticket queries take them."""
    return accounts.actor_for(current_user)


def require_customers_right() -> None:
    """403 unless the agent holds the "customers" right (customer_scope.CUSTOMERS_GROUP)."""
    if not customer_scope.sees_all_customers(current_actor()):
        abort(403)


def page_number() -> int:
    """The page of a list the request asks for (``?page=``; the first if none or not a number)."""
    return id_arg(request.args.get("page")) or 1


@bp.app_context_processor
def _panel_helpers() -> dict[str, Any]:
    return {"customer_panel": _customer_panel, "account_owner_of": contact_store.account_owner}


def _customer_panel(ticket: Ticket) -> queries.CustomerPanel:
    return queries.customer_panel(db(), current_actor(), ticket)
