"""How a ticket's SLA reads (the API, the desk's badges): each target's due moment, state and
how late, from the block the projection stores (``tickets.sla``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tempodesk.contracts import SLA_TARGETS


def sla_targets(block: dict[str, Any] | None, now: datetime) -> list[dict[str, Any]]:
    """``[{"target", "due_at", "state", "breached_by_seconds"?}]`` in target order; a running
    breach is late by the time since it was due, a met one by how late it was met."""
    if not block or not block.get("policy"):
        return []
    found = []
    clocks = {c["target"]: c for c in block.get("clocks") or []}
    for target in SLA_TARGETS:
        clock = clocks.get(target)
        if clock is None:
            continue
        item: dict[str, Any] = {
            "target": target,
            "due_at": clock.get("due_at") or None,
            "state": clock.get("state", "running"),
        }
        if clock.get("breached"):
            late = clock.get("breached_by_seconds", 0)
            if not clock.get("met_at") and clock.get("due_at"):
                late = int((now - datetime.fromisoformat(clock["due_at"])).total_seconds())
            item["breached_by_seconds"] = max(0, late)
        found.append(item)
    return found


def time_left(item: dict[str, Any], now: datetime) -> int | None:
    """Seconds until a running target is due (None: not running)."""
    if item["state"] != "running" or not item["due_at"]:
        return None
    return int((datetime.fromisoformat(item["due_at"]) - now).total_seconds())
