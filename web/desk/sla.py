"""SLA badges: a ticket's targets with the time left (or how late), for lists and the ticket
page. What they read is the projection's block (``tempodesk.sla.view``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tempodesk.sla.view import sla_targets, time_left
from web.desk.common import bp
from web.i18n import gettext as _
from web.i18n import lazy_gettext as L

TARGET_LABELS = {
    "first_response": L("First response"),
    "next_response": L("Next response"),
    "resolution": L("Resolution"),
}


def span(seconds: int) -> str:
    """ "2 d 3 h", "4 h 10 min", "12 min" (a badge's time, to the minute)."""
    minutes = max(0, seconds) // 60
    days, hours, minutes = minutes // (24 * 60), minutes // 60 % 24, minutes % 60
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    if hours:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return _("%(minutes)d min", minutes=minutes)


def badge(item: dict[str, Any], now: datetime) -> dict[str, str]:
    """One target as a badge: its label, a class for its colour and its text."""
    label = str(TARGET_LABELS.get(item["target"], item["target"]))
    state = item["state"]
    if state == "breached":
        text = _("%(time)s late", time=span(item.get("breached_by_seconds", 0)))
    elif state == "running":
        text = _("%(time)s left", time=span(time_left(item, now) or 0))
    elif state == "paused":
        text = _("Paused")
    else:
        text = _("Met")
    return {"label": label, "state": state, "text": text, "target": item["target"]}


@bp.app_template_global()
def sla_badges(ticket: Any, all_targets: bool = False) -> list[dict[str, str]]:
    """The ticket's SLA badges: on the ticket page every target; in lists the one that
    matters (a breach not yet met, else the next due)."""
    now = datetime.now(UTC)
    items = sla_targets(getattr(ticket, "sla", None), now)
    if all_targets:
        return [badge(i, now) for i in items]
    late = [i for i in items if i["state"] == "breached" and i.get("due_at")]
    running = sorted((i for i in items if i["state"] == "running"), key=lambda i: i["due_at"])
    chosen = (late or running)[:1]
    return [badge(i, now) for i in chosen]
