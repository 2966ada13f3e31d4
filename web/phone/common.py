"""What the phone pages share: the blueprints (``phone`` for agents, ``cti_hooks`` for the
cloud PBX's webhooks), the sign-in rule, and how a call is described to an agent."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_login import current_user, login_required

from tempodesk.core.models import CommRecord
from web.i18n import lazy_gettext

bp = Blueprint("phone", __name__, url_prefix="/phone")
hooks_bp = Blueprint("cti_hooks", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every phone page needs a signed-in agent."""


STATUS = {
    "new": lazy_gettext("Calling…"),
    "originating": lazy_gettext("Calling…"),
    "dialing": lazy_gettext("Your phone rings…"),
    "ringing": lazy_gettext("Ringing"),
    "answered": lazy_gettext("Connected"),
    "ended": lazy_gettext("Ended"),
    "not_connected": lazy_gettext("Not connected"),
    "missed": lazy_gettext("Missed"),
    "failed": lazy_gettext("Failed"),
    "unknown": lazy_gettext("Unknown: the PBX did not confirm it"),
    "logged": lazy_gettext("Logged"),
}
OUTCOME = {
    "agreed": lazy_gettext("Agreed"),
    "not_reached": lazy_gettext("Not reached"),
    "no_agreement": lazy_gettext("No agreement"),
}
KIND = {
    "call": lazy_gettext("Call"),
    "letter": lazy_gettext("Letter"),
    "appointment": lazy_gettext("Appointment"),
}


def status_text(record: CommRecord) -> str:
    return str(STATUS.get(record.status, record.status))


def record_helpers() -> dict[str, Any]:
    return {
        "call_status": status_text,
        "call_outcome": lambda r: str(OUTCOME.get(r.outcome, r.outcome)),
        "record_kind": lambda r: str(KIND.get(r.kind, r.kind)),
    }


def is_admin() -> bool:
    return bool(current_user.is_authenticated and current_user.is_admin)
