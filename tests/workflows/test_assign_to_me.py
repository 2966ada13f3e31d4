"""The ``assign_to_me`` effect, pure: the agent who presses becomes the assignee; a customer
or the system pressing it changes nothing."""

from __future__ import annotations

from statemachines.definition import ActionSpec, Effect
from tempodesk.contracts import TicketSnapshot
from workflows.effects import Pressed, apply_effects

TAKE = ActionSpec("take", "Take it", "open", effects=(Effect("assign_to_me"),))


def ticket(assignee: str | None = None) -> TicketSnapshot:
    return TicketSnapshot("T-1", "Help", "new", "New", "new", "support", 1, assignee=assignee)


def test_the_agent_who_presses_becomes_the_assignee() -> None:
    outcome = apply_effects(ticket("bob"), Pressed(TAKE, {}, "ann", 3, "agent"))
    assert outcome.ticket.assignee == "ann"
    assert outcome.data == {"assignee": "ann"}


def test_a_customer_or_the_system_pressing_it_assigns_nobody() -> None:
    for kind, actor in (("customer", "jana@example.com"), ("system", "system")):
        outcome = apply_effects(ticket("bob"), Pressed(TAKE, {}, actor, 3, kind))
        assert outcome.ticket.assignee == "bob"
        assert outcome.data == {}
