"""MailboxWorkflow delivering what a poll routed, with its activities stubbed by name."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowHandle

from tempodesk.contracts import (
    MAILBOX_TASK_QUEUE,
    TICKET_TASK_QUEUE,
    CustomerMessageInput,
    MailboxPollInput,
    MailboxPollResult,
    MailRoute,
)
from tempodesk.core.ids import mailbox_workflow_id
from tests.workflows.conftest import WorkflowEnv
from tests.workflows.test_replay import replayer
from workflows.mailbox import MailboxWorkflow, flag_up_to


async def poll_once(
    wf: WorkflowEnv,
    name: str,
    result: MailboxPollResult,
    *,
    acks: int = 1,
    queue: str = MAILBOX_TASK_QUEUE,
) -> WorkflowHandle:
    """Run the mailbox workflow until it has acknowledged this many polls, then stop it."""
    wf.stubs.polls.append(result)
    handle = await wf.client.start_workflow(
        MailboxWorkflow.run,
        MailboxPollInput(name, own_queue=queue == MAILBOX_TASK_QUEUE),
        id=mailbox_workflow_id(name),
        task_queue=queue,
    )
    while sum(ack.mailbox == name for ack in wf.stubs.acks) < acks:
        await asyncio.sleep(0.05)
    await handle.signal(MailboxWorkflow.stop)
    await handle.result()
    return handle


async def test_routes_carry_each_process_document_once_and_tickets_open(
    wf: WorkflowEnv,
) -> None:
    starts = [wf.start_input(channel="email", mailbox="m") for _ in range(3)]
    processes: dict[str, str] = {}
    routes = [
        MailRoute(s.number, start=s, uid=i + 1).slimmed(processes) for i, s in enumerate(starts)
    ]
    assert len(processes) == 1 and all(r.start and not r.start.process.document for r in routes)
    name = f"docs-{starts[0].number.lower()}"
    result = MailboxPollResult(routes=routes, processes=processes, uids=[1, 2, 3], last_uid=3)
    await poll_once(wf, name, result)
    # Each ticket opens in its own run, which the mailbox's flags need not wait for.
    while not all(wf.stubs.events(s.number) for s in starts):
        await asyncio.sleep(0.05)
    assert all(wf.stubs.events(s.number)[0].kind == "created" for s in starts)
    [ack] = [a for a in wf.stubs.acks if a.mailbox == name]
    assert (ack.uids, ack.last_uid) == ([1, 2, 3], 3)


async def test_a_message_for_a_ticket_not_started_yet_starts_it_then_tells_it(
    wf: WorkflowEnv,
) -> None:
    # Accepted while Temporal was away: its pending start is what `restart` gives back.
    pending = wf.start_input(channel="web")
    wf.stubs.restarts[pending.number] = pending
    message = CustomerMessageInput(message_id=2, author="jana@example.com", channel="email")
    name = f"late-{pending.number.lower()}"
    route = MailRoute(pending.number, message=message, uid=7)
    await poll_once(wf, name, MailboxPollResult(routes=[route], uids=[7], last_uid=7))
    while len(wf.stubs.events(pending.number)) < 2:
        await asyncio.sleep(0.05)
    kinds = [e.kind for e in wf.stubs.events(pending.number)]
    assert kinds == ["created", "customer_message"]
    [ack] = [a for a in wf.stubs.acks if a.mailbox == name]
    assert (ack.uids, ack.last_uid) == ([7], 7)


async def test_a_message_already_on_a_timeline_is_not_delivered_again(wf: WorkflowEnv) -> None:
    # The same route after a crash between delivering and flagging: the ticket's run has
    # ended since, and `restart` finds the message on its timeline, so nothing is started.
    number = wf.new_number()
    message = CustomerMessageInput(message_id=3, author="jana@example.com")
    name = f"again-{number.lower()}"
    route = MailRoute(number, message=message, uid=4)
    await poll_once(wf, name, MailboxPollResult(routes=[route], uids=[4], last_uid=4))
    [ack] = [a for a in wf.stubs.acks if a.mailbox == name]
    assert (ack.uids, ack.last_uid) == ([4], 4)
    assert wf.stubs.events(number) == []  # no run was started for it


async def test_a_backlog_is_fetched_on_while_the_batch_before_is_delivered_and_flagged_in_order(
    wf: WorkflowEnv,
) -> None:
    first = wf.start_input(channel="email", mailbox="m")
    second = wf.start_input(channel="email", mailbox="m")
    message = CustomerMessageInput(message_id=5, author="jana@example.com", channel="email")
    name = f"backlog-{first.number.lower()}"
    wf.stubs.polls.append(
        MailboxPollResult(
            more=True,
            routes=[MailRoute(first.number, start=first, uid=1)],
            uidvalidity=9,
            uids=[1],
            last_uid=1,
        )
    )
    # The next batch: a reply to the first batch's ticket, and a new ticket.
    result = MailboxPollResult(
        routes=[
            MailRoute(first.number, message=message, uid=2),
            MailRoute(second.number, start=second, uid=3),
        ],
        uidvalidity=9,
        uids=[2, 3],
        last_uid=3,
    )
    await poll_once(wf, name, result, acks=2)
    fetched = [f for f in wf.stubs.fetches if f.mailbox == name]
    # The second fetch reads on after the first batch, which was not flagged yet then.
    assert [(f.after_uid, f.uidvalidity) for f in fetched[:2]] == [(0, 0), (1, 9)]
    acks = [(a.uids, a.last_uid) for a in wf.stubs.acks if a.mailbox == name]
    assert acks == [([1], 1), ([2, 3], 3)]
    while len(wf.stubs.events(first.number)) < 2:
        await asyncio.sleep(0.05)
    assert [e.kind for e in wf.stubs.events(first.number)] == ["created", "customer_message"]
    assert wf.stubs.events(second.number)[0].kind == "created"


def test_flags_of_a_backlog_never_pass_mail_that_was_not_delivered() -> None:
    # UID 5 of the first batch was not delivered: the batches after it flag their own mail
    # but keep last_uid below 5, so the next poll reads it again.
    assert flag_up_to(5, {5}, 0) == (4, 5)
    assert flag_up_to(9, set(), 5) == (4, 5)
    assert flag_up_to(9, {7}, 5) == (4, 5)
    assert flag_up_to(9, set(), 0) == (9, 0)
    assert flag_up_to(0, {3}, 0) == (0, 3)


async def test_a_mailbox_started_on_the_tickets_queue_moves_to_its_own_queue_and_polls_there(
    wf: WorkflowEnv,
) -> None:
    """A run an older web or worker started on the tickets' queue (or one that continues
    from such a run) continues as new on the mailboxes' queue before it polls."""
    start = wf.start_input(channel="email", mailbox="m")
    name = f"moved-{start.number.lower()}"
    result = MailboxPollResult(
        routes=[MailRoute(start.number, start=start, uid=7)], uids=[7], last_uid=7
    )
    handle = await poll_once(wf, name, result, queue=TICKET_TASK_QUEUE)
    latest = await wf.client.get_workflow_handle(handle.id).describe()
    first = await wf.client.get_workflow_handle(handle.id, run_id=handle.result_run_id).describe()
    assert (first.task_queue, latest.task_queue) == (TICKET_TASK_QUEUE, MAILBOX_TASK_QUEUE)
    assert latest.run_id != first.run_id
    moved = await wf.client.get_workflow_handle(handle.id, run_id=first.run_id).fetch_history()
    await replayer().replay_workflow(moved)  # the move itself replays
    [ack] = [a for a in wf.stubs.acks if a.mailbox == name]
    assert (ack.uids, ack.last_uid) == ([7], 7)
