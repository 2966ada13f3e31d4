"""The clocks' rules, pure: reopening starts a new resolution cycle; a breach fires once."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from tempodesk.contracts import PinnedSla, SlaAction, SlaState
from tempodesk.sla.clocks import SlaClocks
from tempodesk.sla.view import state_of

ALWAYS = {
    "time_zone": "UTC",
    "hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def clocks() -> SlaClocks:
    sla = SlaClocks(SlaState())
    policy = PinnedSla(1, "p", ALWAYS, {"first_response": 3600, "resolution": 7200}, revision="r")
    sla.pin(policy, START, "new", False)
    return sla


def test_a_reopened_ticket_starts_a_new_resolution_cycle_with_the_whole_target() -> None:
    sla = clocks()
    sla.entered(START + timedelta(minutes=30), "resolved", True)
    resolution = sla.state.clock("resolution")
    assert resolution is not None and resolution.state == "met"
    sla.entered(START + timedelta(hours=5), "open", False)
    resolution = sla.state.clock("resolution")
    assert resolution is not None and (resolution.cycle, resolution.state) == (2, "running")
    assert resolution.due_at == (START + timedelta(hours=7)).isoformat()


def test_a_breach_fires_once_and_a_late_reply_says_how_late() -> None:
    sla = clocks()
    fired = sla.fire(START + timedelta(hours=1))
    assert [(f.kind, f.clock.target) for f in fired] == [
        ("sla_warning", "first_response"),
        ("sla_breached", "first_response"),
    ]  # resolution warns at 80 % of two hours: later
    assert sla.fire(START + timedelta(hours=1, minutes=1)) == []
    sla.replied(START + timedelta(hours=1, minutes=10))
    first = sla.state.clock("first_response")
    assert first is not None and (first.state, first.breached_by_seconds) == ("breached", 600)


def test_the_projected_block_restores_the_same_state() -> None:
    sla = clocks()
    sla.state.policy.on_breach = [SlaAction("escalate", group="Billing")]  # type: ignore[union-attr]
    sla.replied(START + timedelta(minutes=5))
    assert state_of(asdict(sla.state)) == sla.state
    assert state_of(None) == SlaState()
