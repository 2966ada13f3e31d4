"""Triggers in the ticket's workflow on a real Temporal server (activities stubbed): they run
in their order, each seeing what the ones before did; each fires once per event that caused
it; triggers that answer each other stop at the depth limit."""

from __future__ import annotations

from typing import Any

import pytest

from tempodesk.contracts import SIGNAL_CUSTOMER_MESSAGE, Actor, CustomerMessageInput
from tempodesk.contracts.triggers import (
    TriggerActionSpec,
    TriggerCondition,
    TriggersChangedInput,
    TriggerSpec,
)
from tests.workflows.conftest import WorkflowEnv
from tests.workflows.test_merge import handle
from tests.workflows.test_rating_workflow import act, until
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")
AGENT = Actor("agent1", ["Support"])


def fired(wf: WorkflowEnv, number: str) -> list[Any]:
    """The trigger_fired events, once each (a projection may be written twice: by seq)."""
    events = {e.seq: e for e in wf.stubs.events(number) if e.kind == "trigger_fired"}
    return [events[seq] for seq in sorted(events)]


async def test_triggers_run_in_order_each_seeing_the_ones_before(wf: WorkflowEnv) -> None:
    urgent = TriggerSpec(
        1,
        "Refunds are urgent",
        "created",
        [TriggerCondition("subject", "contains", "refund")],
        [TriggerActionSpec("set_priority", 4)],
    )
    tag = TriggerSpec(
        2,
        "Urgent ones to billing",
        "created",
        [TriggerCondition("priority", "is", 4)],
        [TriggerActionSpec("set_field", "billing", name="queue")],
    )
    start = wf.start_input(subject="A refund, please", triggers=[urgent, tag])
    await wf.create(start)

    ticket = wf.stubs.latest(start.number)
    assert ticket.priority == 4 and ticket.fields == {"queue": "billing"}
    assert [e.data["name"] for e in fired(wf, start.number)] == [urgent.name, tag.name]
    created = next(e for e in wf.stubs.events(start.number) if e.kind == "created")
    assert {e.data["cause"] for e in fired(wf, start.number)} == {created.seq}


async def test_triggers_that_answer_each_other_stop_at_the_depth_limit(wf: WorkflowEnv) -> None:
    to_spam = TriggerSpec(
        1,
        "Open goes to spam",
        "state_changed",
        [TriggerCondition("state", "is", "open")],
        [TriggerActionSpec("perform", "mark_spam")],
    )
    back = TriggerSpec(
        2,
        "Spam comes back",
        "state_changed",
        [TriggerCondition("state", "is", "spam")],
        [TriggerActionSpec("perform", "reopen")],
    )
    start = wf.start_input(triggers=[to_spam, back])
    await wf.create(start)

    await act(wf, start.number, "forward", to="group:Support", note=5)  # new -> open

    names = [e.data["name"] for e in fired(wf, start.number)]
    assert names == [to_spam.name, back.name]  # then the depth limit: no third
    assert wf.stubs.latest(start.number).state == "open"


async def test_a_trigger_fires_once_per_event_even_when_told_its_list_again(
    wf: WorkflowEnv,
) -> None:
    answered = TriggerSpec(
        7,
        "Customer wrote: normal priority",
        "customer_message",
        [],
        [TriggerActionSpec("set_priority", 2)],
    )
    start = wf.start_input(continue_as_new_after=3)
    await wf.create(start)
    ticket = handle(wf, start.number)
    await ticket.signal(TicketWorkflow.triggers_changed, TriggersChangedInput([answered]))
    await ticket.signal(TicketWorkflow.triggers_changed, TriggersChangedInput([answered]))
    for message_id in (41, 42, 42):  # the same message twice is taken once
        await ticket.signal(SIGNAL_CUSTOMER_MESSAGE, CustomerMessageInput(message_id))

    async def both() -> bool:
        return len(fired(wf, start.number)) >= 2

    await until(both)
    await act(wf, start.number, "comment", body=43)  # after continue-as-new, nothing refires
    causes = [e.data["cause"] for e in fired(wf, start.number)]
    assert len(causes) == len(set(causes)) == 2


async def test_a_trigger_sends_a_template_through_the_outbox(wf: WorkflowEnv) -> None:
    welcome = TriggerSpec(
        3, "Welcome", "created", [], [TriggerActionSpec("send_template", "welcome")]
    )
    start = wf.start_input(triggers=[welcome])
    await wf.create(start)

    async def sent() -> bool:
        return any(
            (t.ticket_number, t.template, t.to_role) == (start.number, "welcome", "customer")
            for t in wf.stubs.templates
        )

    await until(sent)
    (event,) = fired(wf, start.number)
    assert event.data["actions"] == [{"type": "send_template", "name": "", "value": "welcome"}]


async def test_a_trigger_adds_a_tag_that_the_projection_writes(wf: WorkflowEnv) -> None:
    vip = TriggerSpec(
        3,
        "Refunds are tagged",
        "created",
        [TriggerCondition("subject", "contains", "refund")],
        [TriggerActionSpec("add_tag", "Refund Request")],
    )
    start = wf.start_input(subject="A refund, please", triggers=[vip])
    await wf.create(start)

    assert wf.stubs.latest(start.number).tags == ["refund-request"]
    [event] = fired(wf, start.number)
    assert event.data["tags"] == ["refund-request"]  # the projection's cue to write them
