"""Workflow code must keep replaying the histories of workflows already in flight.

``histories/*.json`` are real histories recorded from earlier versions of the workflows:
TicketWorkflow (full-walk v1 and v2 and migration v2 before the one-step opening, v3 after
it, v4 since templates go out per recipient; closing-reply v4: a reply that reached a closed
ticket still sending its mail, made a new ticket; sla v5: a ticket under an SLA policy;
triggers v6: triggers on creation, idle (its timer), outgoing and on automatic mail),
MailboxWorkflow (backlog v3: on its own task queue) and
ProcessMigrationWorkflow (v0 when their activities drove the tickets, v1 since the
workflows do). Every change to a workflow must still replay them (or
guard itself with ``workflow.patched``). To add fresh recordings after a deliberate, patched
change, run (``-k`` the new walk only: a rerun overwrites the older recordings with the
current code's):
``TEMPODESK_RECORD_HISTORIES=1 .venv/bin/python -m pytest tests/workflows/test_replay.py``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.common import WorkflowIDReusePolicy
from temporalio.worker import Replayer

from tempodesk.app.worker import SANDBOX
from tempodesk.contracts import (
    TICKET_TASK_QUEUE,
    Actor,
    CustomerMessageInput,
    MailboxPollInput,
    MailboxPollResult,
    MailRoute,
    MigrateProcessInput,
    MigrationItem,
    MigrationStartInput,
    PerformActionInput,
    PinnedSla,
    RedirectResult,
    SlaChangedInput,
    TicketStartInput,
)
from tempodesk.contracts.triggers import TriggerActionSpec, TriggersChangedInput, TriggerSpec
from tempodesk.core.ids import mailbox_workflow_id, migration_workflow_id, ticket_workflow_id
from tempodesk.core.settings import Settings
from tempodesk.core.temporal_client import data_converter
from tests.workflows.conftest import WorkflowEnv
from workflows.mailbox import MailboxWorkflow
from workflows.migration import ProcessMigrationWorkflow
from workflows.ticket import TicketWorkflow

HISTORIES = Path(__file__).parent / "histories"
AGENT = Actor("agent1", ["Support"])


def replayer() -> Replayer:
    return Replayer(
        workflows=[TicketWorkflow, MailboxWorkflow, ProcessMigrationWorkflow],
        workflow_runner=SANDBOX,
        data_converter=data_converter(Settings()),  # histories the SDK's converter wrote
    )


def recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_recorded_histories_are_kept_in_the_repository() -> None:
    assert recorded(), "tests/workflows/histories/ must hold recorded ticket histories"


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", recorded(), ids=lambda p: p.stem)
async def test_recorded_history_replays_with_the_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer().replay_workflow(history)


async def walk_a_ticket_through_every_kind_of_step(wf: WorkflowEnv) -> str:
    """Support: assign (a template goes out), type (a stored field), note, reply, the
    customer's answer, forward, resolve, close."""
    start = wf.start_input(order_number="ORD-1001")
    await wf.create(start)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(start.number))

    async def act(action: str, **fields: object) -> None:
        await handle.execute_update(
            TicketWorkflow.perform_action, PerformActionInput(action, AGENT, dict(fields))
        )

    await act("assign", agent="agent2")
    await act("categorise", type="problem")
    await act("set_priority", priority=3)
    await act("comment", body=2)
    await act("reply", body=3)
    await handle.signal(
        TicketWorkflow.customer_message,
        CustomerMessageInput(message_id=4, author="jana@example.com", channel="email"),
    )
    await act("forward", to="group:Billing", note=5)
    await act("resolve")
    await act("close")
    await handle.result()
    return start.number


async def walk_a_ticket_through_a_migration(wf: WorkflowEnv) -> str:
    """Guarded v1 → escalate → migrated by an admin to v2 (state renamed) → hand back → close."""
    from tests.workflows.test_process_features import ADMIN, guarded_v2, pinned_from

    start = wf.start_input(process=wf.guarded())
    await wf.create(start)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(start.number))
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("escalate", ADMIN, {})
    )
    await handle.execute_update(
        TicketWorkflow.migrate_process,
        MigrateProcessInput(pinned_from(guarded_v2(), 2), ADMIN, {"escalated": "specialist"}),
    )
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("hand_back", ADMIN, {})
    )
    await handle.execute_update(
        TicketWorkflow.perform_action, PerformActionInput("close", ADMIN, {})
    )
    await handle.result()
    return start.number


async def walk_a_closed_ticket_through_its_reopening(wf: WorkflowEnv) -> str:
    """Opened, closed (its run ends), then a new run restored and reopened, then told the
    customer's message (the mailbox workflow's way: start the run, then signal it)."""
    start = wf.start_input()
    await wf.create(start)
    workflow_id = ticket_workflow_id(start.number)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, workflow_id)
    await handle.execute_update(
        TicketWorkflow.perform_action,
        PerformActionInput("close_without_reply", AGENT, {"reason": "duplicate"}),
    )
    await handle.result()
    restored = wf.stubs.latest(start.number)
    message = CustomerMessageInput(message_id=9, author="jana@example.com", channel="email")
    reopened = await wf.client.start_workflow(
        TicketWorkflow.run,
        TicketStartInput.reopening(start.process, restored),
        id=workflow_id,
        task_queue=TICKET_TASK_QUEUE,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    await reopened.signal(TicketWorkflow.customer_message, message)
    await reopened.execute_update(
        TicketWorkflow.perform_action,
        PerformActionInput("close_without_reply", AGENT, {"reason": "duplicate"}),
    )
    await reopened.result()
    return start.number


async def walk_a_closing_ticket_through_a_late_reply(wf: WorkflowEnv) -> str:
    """Replied and closed while the reply still leaves; the customer's reply then reaches
    it in a mailbox that makes such mail a new ticket (a local activity, a child started)."""
    start = wf.start_input()
    await wf.create(start)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(start.number))
    new = wf.start_input(message_id=12)
    wf.stubs.redirects[12] = RedirectResult(new.number, new)
    wf.stubs.mail_delay = 1.0
    try:
        for action, fields in (("reply", {"body": 11}), ("close", {})):
            await handle.execute_update(
                TicketWorkflow.perform_action, PerformActionInput(action, AGENT, fields)
            )
        late = CustomerMessageInput(message_id=12, author="jana@example.com", if_closed="new")
        await handle.signal(TicketWorkflow.customer_message, late)
        await handle.result()
    finally:
        wf.stubs.mail_delay = 0.0
    return start.number


async def walk_a_mailbox_through_a_poll(wf: WorkflowEnv) -> str:
    """One poll: a new ticket (a child workflow) and a message for it, then the flags."""
    start = wf.start_input(channel="email", mailbox="support")
    message = CustomerMessageInput(message_id=2, author="jana@example.com", channel="email")
    wf.stubs.polls.append(
        MailboxPollResult(
            fetched=2,
            next_poll_seconds=1,
            routes=[MailRoute(start.number, start=start), MailRoute(start.number, message=message)],
            uidvalidity=1,
            uids=[1, 2],
            last_uid=2,
        )
    )
    name = f"replay-{start.number.lower()}"
    handle = await wf.client.start_workflow(
        MailboxWorkflow.run,
        MailboxPollInput(name),
        id=mailbox_workflow_id(name),
        task_queue=TICKET_TASK_QUEUE,
    )
    while not any(ack.mailbox == name for ack in wf.stubs.acks):
        await asyncio.sleep(0.05)
    await handle.signal(MailboxWorkflow.stop)
    await handle.result()
    assert [e.kind for e in wf.stubs.events(start.number)][:2] == ["created", "customer_message"]
    return mailbox_workflow_id(name)


async def walk_a_mailbox_through_a_backlog(wf: WorkflowEnv) -> str:
    """Two polls of a backlog: the second is fetched while the first is delivered (a child
    started), then its reply to that ticket is told; each batch flagged in turn."""
    start = wf.start_input(channel="email", mailbox="support")
    message = CustomerMessageInput(message_id=2, author="jana@example.com", channel="email")
    wf.stubs.polls += [
        MailboxPollResult(
            fetched=1,
            more=True,
            routes=[MailRoute(start.number, start=start, uid=1)],
            uidvalidity=1,
            uids=[1],
            last_uid=1,
        ),
        MailboxPollResult(
            fetched=1,
            next_poll_seconds=1,
            routes=[MailRoute(start.number, message=message, uid=2)],
            uidvalidity=1,
            uids=[2],
            last_uid=2,
        ),
    ]
    name = f"backlog-{start.number.lower()}"
    handle = await wf.client.start_workflow(
        MailboxWorkflow.run,
        MailboxPollInput(name),
        id=mailbox_workflow_id(name),
        task_queue=TICKET_TASK_QUEUE,
    )
    while sum(ack.mailbox == name for ack in wf.stubs.acks) < 2:
        await asyncio.sleep(0.05)
    await handle.signal(MailboxWorkflow.stop)
    await handle.result()
    while len(wf.stubs.events(start.number)) < 2:
        await asyncio.sleep(0.05)
    assert [e.kind for e in wf.stubs.events(start.number)][:2] == ["created", "customer_message"]
    return mailbox_workflow_id(name)


async def walk_a_migration(wf: WorkflowEnv) -> str:
    """Two tickets asked, one activity each, then the migration ends."""
    wf.stubs.migration_items = [MigrationItem(1, "T-1"), MigrationItem(2, "T-2")]
    migration_id = 100_000 + next(wf.counter)
    handle = await wf.client.start_workflow(
        ProcessMigrationWorkflow.run,
        MigrationStartInput(migration_id),
        id=migration_workflow_id(migration_id),
        task_queue=TICKET_TASK_QUEUE,
    )
    assert (await handle.result()).migrated >= 2
    return migration_workflow_id(migration_id)


async def walk_a_ticket_under_an_sla(wf: WorkflowEnv) -> str:
    """A ticket with a policy: re-selected on a priority change and on ``sla_changed``, first
    response met by a reply, next response started by the customer, paused, resolved."""
    start = wf.start_input()
    calendar = {"time_zone": "Europe/Prague", "hours": {"mon": ["08:00-17:00"]}}
    targets = {"first_response": 3600, "next_response": 3600, "resolution": 86400}
    wf.stubs.slas[start.number] = PinnedSla(1, "Standard", calendar, targets, revision="a")
    await wf.create(start)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(start.number))

    async def act(action: str, **fields: object) -> None:
        await handle.execute_update(
            TicketWorkflow.perform_action, PerformActionInput(action, AGENT, dict(fields))
        )

    await act("set_priority", priority=4)
    await act("reply", body=3)
    await handle.signal(TicketWorkflow.customer_message, CustomerMessageInput(message_id=4))
    wf.stubs.slas[start.number] = PinnedSla(1, "Standard", calendar, targets, revision="b")
    await handle.signal(TicketWorkflow.sla_changed, SlaChangedInput("edited"))
    await act("resolve")
    await act("close")
    await handle.result()
    return start.number


async def walk_a_ticket_with_triggers(wf: WorkflowEnv) -> str:
    """A ticket with triggers: one on creation, an idle one (its timer armed, re-armed by each
    activity), outgoing rules on a reply, a changed list, automatic mail left unanswered."""
    created = TriggerSpec(1, "Urgent", "created", [], [TriggerActionSpec("set_priority", 3)])
    idle = TriggerSpec(2, "Idle", "idle", [], [TriggerActionSpec("set_priority", 4)], hours=8)
    answer = TriggerSpec(
        3, "Answer", "customer_message", [], [TriggerActionSpec("send_template", "got_it")]
    )
    bcc = TriggerSpec(4, "Archive", "outgoing", [], [TriggerActionSpec("add_bcc", "a@b.cz")])
    start = wf.start_input(triggers=[created, idle, bcc])
    await wf.create(start)
    handle = wf.client.get_workflow_handle_for(TicketWorkflow.run, ticket_workflow_id(start.number))

    async def act(action: str, **fields: object) -> None:
        await handle.execute_update(
            TicketWorkflow.perform_action, PerformActionInput(action, AGENT, dict(fields))
        )

    await act("reply", body=3)
    await handle.signal(
        TicketWorkflow.triggers_changed, TriggersChangedInput([created, idle, answer, bcc])
    )
    await handle.signal(
        TicketWorkflow.customer_message, CustomerMessageInput(message_id=4, automatic=True)
    )
    await handle.signal(TicketWorkflow.customer_message, CustomerMessageInput(message_id=5))
    await act("resolve")
    await act("close")
    await handle.result()
    return start.number


#: name -> (the walk, whether it returns a ticket number or a workflow id)
WALKS = {
    "ticket-full-walk-v3": walk_a_ticket_through_every_kind_of_step,
    "ticket-migration-v3": walk_a_ticket_through_a_migration,
    "ticket-reopened-v3": walk_a_closed_ticket_through_its_reopening,
    "ticket-full-walk-v4": walk_a_ticket_through_every_kind_of_step,
    "ticket-closing-reply-v4": walk_a_closing_ticket_through_a_late_reply,
    "ticket-sla-v5": walk_a_ticket_under_an_sla,
    "ticket-triggers-v6": walk_a_ticket_with_triggers,
    # Since the "sla-in-projection" patch: the policy chosen in the action's projection.
    "ticket-sla-v6": walk_a_ticket_under_an_sla,
    "mailbox-poll-v1": walk_a_mailbox_through_a_poll,
    "mailbox-backlog-v2": walk_a_mailbox_through_a_backlog,
    # Since the "mailbox-own-queue" patch: started on the tickets' queue as before, the run
    # continues as new on the mailboxes' queue and polls there (this is that run).
    "mailbox-backlog-v3": walk_a_mailbox_through_a_backlog,
    "process-migration-v1": walk_a_migration,
}


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("name", WALKS)
async def test_a_fresh_history_of_every_step_replays(wf: WorkflowEnv, name: str) -> None:
    walked = await WALKS[name](wf)
    workflow_id = walked if walked.startswith(("mailbox-", "process-")) else None
    handle = wf.client.get_workflow_handle(workflow_id or ticket_workflow_id(walked))
    history = await handle.fetch_history()
    await replayer().replay_workflow(history)
    if os.environ.get("TEMPODESK_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())
