"""Idle triggers are a durable timer in the ticket's workflow (days pass in a second under the
time-skipping test server): due after the trigger's hours of business time since the last
activity, once per activity, re-armed by every activity; a ticket with no idle trigger arms
nothing. Triggers answering a customer are auto-replies, never to automatic mail; outgoing
triggers travel with the mail to the activity that composes it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from statemachines.calendar import WEEKDAYS, Calendar
from statemachines.triggers import idle_due
from tempodesk.contracts import (
    SIGNAL_CUSTOMER_MESSAGE,
    Actor,
    CustomerMessageInput,
    PerformActionInput,
    TicketSnapshot,
)
from tempodesk.contracts.triggers import (
    OutgoingRule,
    TriggerActionSpec,
    TriggerCondition,
    TriggerSpec,
)
from tempodesk.core.ids import ticket_workflow_id
from tests.workflows.conftest import WorkflowEnv
from tests.workflows.test_rating_workflow import act, until
from tests.workflows.test_timeouts import skipping  # noqa: F401 (the time-skipping fixture)
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")
Skipping = tuple[WorkflowEnvironment, WorkflowEnv]
AGENT = Actor("agent1", ["Support"])
#: One working hour a day, every day: 2 business hours are more than a day of wall time.
ONE_HOUR_A_DAY: dict[str, Any] = {
    "time_zone": "UTC",
    "hours": {day: ["09:00-10:00"] for day in WEEKDAYS},
}


def idle(hours: int, calendar: dict[str, Any] | None = None, ident: int = 11) -> TriggerSpec:
    return TriggerSpec(
        ident,
        f"Idle {hours}h",
        "idle",
        [TriggerCondition("state_category", "is_not", "closed")],
        [TriggerActionSpec("set_priority", 4)],
        hours=hours,
        calendar=calendar or {},
    )


def fired(wf: WorkflowEnv, number: str) -> list[Any]:
    events = {e.seq: e for e in wf.stubs.events(number) if e.kind == "trigger_fired"}
    return [events[seq] for seq in sorted(events)]


async def opened(skipping: Skipping, triggers: list[TriggerSpec]):  # type: ignore[no-untyped-def]  # noqa: F811
    env, wf = skipping
    start = wf.start_input(triggers=triggers)
    await wf.create(start)
    handle = env.client.get_workflow_handle_for(
        TicketWorkflow.run, ticket_workflow_id(start.number)
    )
    return env, wf, start.number, handle


async def test_an_idle_ticket_fires_its_trigger_once_after_the_hours(skipping: Skipping) -> None:  # noqa: F811
    env, wf, number, handle = await opened(skipping, [idle(4)])
    await env.sleep(timedelta(hours=3, minutes=50))
    assert fired(wf, number) == []
    await env.sleep(timedelta(minutes=20))
    [event] = fired(wf, number)
    assert event.data["on"] == "idle" and event.data["cause"] == 1  # the created event
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    assert snapshot.priority == 4
    await env.sleep(timedelta(days=3))
    assert len(fired(wf, number)) == 1  # once per activity, not every 4 hours


async def test_every_activity_arms_the_idle_timer_again(skipping: Skipping) -> None:  # noqa: F811
    env, wf, number, handle = await opened(skipping, [idle(4)])
    await env.sleep(timedelta(hours=3))
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("comment", AGENT, {"body": 5})
    )
    await env.sleep(timedelta(hours=3))
    assert fired(wf, number) == []  # 6 hours since it opened, 3 since the agent's note
    await handle.signal(SIGNAL_CUSTOMER_MESSAGE, CustomerMessageInput(77))
    await env.sleep(timedelta(hours=3, minutes=50))
    assert fired(wf, number) == []
    await env.sleep(timedelta(minutes=20))
    [event] = fired(wf, number)
    message = next(e for e in wf.stubs.events(number) if e.kind == "customer_message")
    assert event.data["cause"] == message.seq


async def test_idle_hours_are_business_hours_of_the_calendar(skipping: Skipping) -> None:  # noqa: F811
    env, wf, number, handle = await opened(skipping, [idle(2, ONE_HOUR_A_DAY)])
    snapshot: TicketSnapshot = await handle.query(TicketWorkflow.snapshot)
    since = datetime.fromisoformat(snapshot.active_at)
    due = idle_due(since, 2, Calendar.from_dict(ONE_HOUR_A_DAY))
    assert due is not None and due - since > timedelta(hours=24)
    await env.sleep(due - since - timedelta(minutes=5))
    assert fired(wf, number) == []
    await env.sleep(timedelta(minutes=10))
    assert len(fired(wf, number)) == 1


async def test_a_ticket_without_idle_triggers_starts_no_timer(skipping: Skipping) -> None:  # noqa: F811
    welcome = TriggerSpec(3, "Urgent", "created", [], [TriggerActionSpec("set_priority", 3)])
    env, _wf, _number, handle = await opened(skipping, [welcome])
    await env.sleep(timedelta(days=2))
    kinds = [e.event_type async for e in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_TIMER_STARTED not in kinds


async def test_no_trigger_auto_replies_to_automatic_mail(wf: WorkflowEnv) -> None:
    answer = TriggerSpec(
        5, "We got it", "customer_message", [], [TriggerActionSpec("send_template", "got_it")]
    )
    start = wf.start_input(triggers=[answer])
    await wf.create(start)
    ticket = wf.client.get_workflow_handle(ticket_workflow_id(start.number))
    await ticket.signal(SIGNAL_CUSTOMER_MESSAGE, CustomerMessageInput(61, automatic=True))
    await ticket.signal(SIGNAL_CUSTOMER_MESSAGE, CustomerMessageInput(62))

    async def answered() -> bool:
        return any(t.ticket_number == start.number for t in wf.stubs.templates)

    await until(answered)
    [sent] = [t for t in wf.stubs.templates if t.ticket_number == start.number]
    assert (sent.template, sent.auto_submitted) == ("got_it", "auto-replied")
    first, second = fired(wf, start.number)
    assert first.data["actions"] == []  # fired (recorded), but nothing sent to a machine
    assert second.data["actions"][0]["value"] == "got_it"


async def test_outgoing_triggers_go_with_the_mail_to_its_composer(wf: WorkflowEnv) -> None:
    archive = TriggerSpec(
        8, "Archive", "outgoing", [], [TriggerActionSpec("add_bcc", "archive@example.com")]
    )
    czech = TriggerSpec(
        9,
        "Czech signature",
        "outgoing",
        [TriggerCondition("language", "is", "cs"), TriggerCondition("channel", "is", "web")],
        [TriggerActionSpec("set_signature", "S pozdravem, podpora")],
    )
    elsewhere = TriggerSpec(
        10,
        "Phone only",
        "outgoing",
        [TriggerCondition("channel", "is", "phone")],
        [TriggerActionSpec("add_bcc", "phone@example.com")],
    )
    agents = TriggerSpec(
        12,
        "Agents' notices",
        "outgoing",
        [TriggerCondition("recipient", "is", "assignee")],
        [TriggerActionSpec("set_signature", "Tempodesk")],
    )
    start = wf.start_input(triggers=[archive, czech, elsewhere, agents])
    await wf.create(start)
    await act(wf, start.number, "reply", body=31)

    async def sent() -> bool:
        return any(m.ticket_number == start.number for m in wf.stubs.sent)

    await until(sent)
    [mail] = [m for m in wf.stubs.sent if m.ticket_number == start.number]
    assert mail.outgoing == [
        OutgoingRule("Archive", [], ["archive@example.com"], ""),
        OutgoingRule("Czech signature", ["cs"], [], "S pozdravem, podpora"),
    ]
    assert fired(wf, start.number) == []  # rules of the mail, not events of the ticket
