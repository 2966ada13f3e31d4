"""How a ticket's SLA reads (the API, the desk's badges): each target's due moment, state and
how late, from the block the projection stores (``tickets.sla``)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from tempodesk.contracts import SLA_TARGETS, PinnedSla, SlaAction, SlaClock, SlaState


def _known(cls: type, raw: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in raw.items() if k in names}


def state_of(block: dict[str, Any] | None) -> SlaState:
    """The ``SlaState`` the projection stored (``dataclasses.asdict``), to restore a closed
    ticket's run with its policy and clocks."""
    if not block:
        return SlaState()
    raw = block.get("policy")
    policy = None
    if raw:
        policy = PinnedSla(**_known(PinnedSla, raw))
        policy.on_warning = [SlaAction(**_known(SlaAction, a)) for a in raw.get("on_warning", [])]
        policy.on_breach = [SlaAction(**_known(SlaAction, a)) for a in raw.get("on_breach", [])]
    return SlaState(
        policy=policy,
        clocks=[SlaClock(**_known(SlaClock, c)) for c in block.get("clocks") or []],
        replied=bool(block.get("replied")),
        awaiting_reply=bool(block.get("awaiting_reply")),
    )


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
