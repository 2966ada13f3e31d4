"""A customer's mail reaching a closed ticket whose run still sends its last mail: the
mailbox's closed-ticket policy applies (reopen, or a new ticket), never a silent attach."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tempodesk.contracts import CustomerMessageInput, RedirectResult, TicketSnapshot
from tests.workflows.conftest import WorkflowEnv
from tests.workflows.test_ticket_workflow import act, handle, wait_for
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def held_mail(wf: WorkflowEnv) -> Iterator[threading.Event]:
    """The closing ticket is still sending its reply until the test lets it go (however slow
    the machine, the customer's mail arrives while the run is alive)."""
    gate = threading.Event()
    wf.stubs.mail_gate = gate
    yield gate
    gate.set()
    wf.stubs.mail_gate = None


async def closed_while_sending(wf: WorkflowEnv) -> str:
    start = wf.start_input()
    await wf.create(start)
    await act(wf, start.number, "reply", body=40)
    closed = await act(wf, start.number, "close")
    assert closed.state == "closed"
    return start.number


async def test_a_reply_to_a_closing_ticket_reopens_it_when_the_mailbox_says_reopen(
    wf: WorkflowEnv, held_mail: threading.Event
) -> None:
    number = await closed_while_sending(wf)
    reply = CustomerMessageInput(
        message_id=41, author="jana@example.com", channel="email", if_closed="reopen"
    )
    await handle(wf, number).signal(TicketWorkflow.customer_message, reply)
    held_mail.set()
    await wait_for(lambda: "customer_message" in [e.kind for e in wf.stubs.events(number)])
    snapshot: TicketSnapshot = await handle(wf, number).query(TicketWorkflow.snapshot)
    assert snapshot.state_category == "open"
    kinds = [e.kind for e in wf.stubs.events(number)]
    assert kinds.index("reopened") < kinds.index("customer_message")
    # The run goes on (the ticket is open again): the reply queued before closing went out.
    await wait_for(lambda: any(m.message_id == 40 for m in wf.stubs.sent))
    description = await handle(wf, number).describe()
    assert description.status is not None and description.status.name == "RUNNING"


async def test_a_reply_to_a_closing_ticket_becomes_a_new_ticket_when_the_mailbox_says_new(
    wf: WorkflowEnv, held_mail: threading.Event
) -> None:
    number = await closed_while_sending(wf)
    new = wf.start_input(message_id=42, subject="Re: The kettle stopped working")
    wf.stubs.redirects[42] = RedirectResult(new.number, new)
    reply = CustomerMessageInput(
        message_id=42, author="jana@example.com", channel="email", if_closed="new"
    )
    await handle(wf, number).signal(TicketWorkflow.customer_message, reply)
    held_mail.set()
    result = await handle(wf, number).result()
    assert result.state == "closed"
    events = wf.stubs.events(number)
    assert "customer_message" not in [e.kind for e in events]  # not attached to the old one
    [redirected] = [e for e in events if e.kind == "message_redirected"]
    assert redirected.data["ticket"] == new.number
    await wait_for(lambda: new.number in wf.stubs.projections)
    assert wf.stubs.latest(new.number).state == "new"
