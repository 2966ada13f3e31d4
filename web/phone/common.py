"""What the phone pages share: the blueprints (``phone`` for agents, ``cti_hooks`` for the
cloud PBX's webhooks), the sign-in rule, and how a call is described to an agent."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_login import current_user, login_required

from tempodesk.core.models import CommRecord
from web.i18n import lazy_gettext as _l

bp = Blueprint("phone", __name__, url_prefix="/phone")
hooks_bp = Blueprint("cti_hooks", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every phone page needs a signed-in agent."""


STATUS = {
    "new": _l("Calling…"),
    "originating": _l("Calling…"),
    "dialing": _l("Your phone rings…"),
    "ringing": _l("Ringing"),
    "answered": _l("Connected"),
    "ended": _l("Ended"),
    "not_connected": _l("Not connected"),
    "missed": _l("Missed"),
    "failed": _l("Failed"),
    "unknown": _l("Unknown: the PBX did not confirm it"),
    "logged": _l("Logged"),
}
OUTCOME = {
    "agreed": _l("Agreed"),
    "not_reached": _l("Not reached"),
    "no_agreement": _l("No agreement"),
}
KIND = {"call": _l("Call"), "letter": _l("Letter"), "appointment": _l("Appointment")}


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
