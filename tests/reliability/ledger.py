"""The reconciliation ledger (RELIABILITY.md §2): what a scenario put in against what came out.

A scenario writes down what it submitted (a token per request or mail, carried in its subject
and body), the tickets it touched and any security violation it saw. ``reconcile`` then
compares that with PostgreSQL or SQLite (tickets, messages, quarantine, pending starts),
Temporal (describe and the ``snapshot`` query of each ticket's workflow) and the SMTP sink,
and returns the §4 scoreboard's counters; a scenario asserts they are all zero
(``assert_clean``). With ``TEMPODESK_RELIABILITY_LEDGER=<file>`` every result is also
appended to that file as a JSON line, which ``make reliability`` turns into the scoreboard.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from tempodesk.contracts import QUERY_SNAPSHOT, TicketSnapshot
from tempodesk.core.ids import ticket_workflow_id
from tempodesk.core.models import InboundMessage, Message, Ticket
from tempodesk.core.models.base import utcnow
from tests.helpers import Stack

LEDGER_FILE = "TEMPODESK_RELIABILITY_LEDGER"  # append each result here as a JSON line
RUN = "TEMPODESK_RELIABILITY_RUN"  # the run's number on the scoreboard
FULL = "TEMPODESK_RELIABILITY"  # "full": the full variants (``make reliability``)

ZERO = (
    "tickets_lost",
    "dup_tickets",
    "dup_articles",
    "emails_sent_twice",
    "sms_sent_twice",
    "calls_started_twice",
    "projection_drift",
    "stuck",
    "failed_wf",
    "security_violations",
)
FAILED = (
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
    WorkflowExecutionStatus.CANCELED,
)
STUCK_ATTEMPTS = 3  # an activity or workflow task retried this often has not recovered
FINAL_INBOUND = ("ticket", "follow_up", "ignored", "quarantined")


def full_run() -> bool:
    """True when the full variants run (``make reliability``), not the quick ones."""
    return os.environ.get(FULL, "") == "full"


@dataclass
class Ledger:
    """What one scenario submitted, touched and saw; opened before the fault."""

    stack: Stack
    scenario: str
    variant: str = ""
    run_tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    tokens: list[str] = field(default_factory=list)
    tickets: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    allowed_twice: int = 0  # mails the scenario may send twice (R1 window a, same Message-ID)
    sink_mark: int = 0
    pbx: Any = None  # the stand-in PBX (tempodesk.telephony.standin) when the scenario calls
    calls: dict[str, int] = field(default_factory=dict)  # ticket -> calls the agents asked for
    sms_gateway: Any = None  # the SMS stand-in the scenario sends through (R16)
    opened: datetime = field(default_factory=lambda: utcnow() - timedelta(seconds=5))

    def __post_init__(self) -> None:
        self.sink_mark = len(self.stack.sink.caught)
        mode = "full" if full_run() else "quick"
        self.variant = f"{self.variant}, {mode}" if self.variant else mode

    def token(self) -> str:
        """A fresh token for one submitted item: put it in its subject and its body."""
        token = f"T-{self.run_tag}-{len(self.tokens):04d}"
        self.tokens.append(token)
        return token

    def ticket(self, number: str) -> str:
        """A ticket the scenario touched: checked for drift, stuck and failed workflows."""
        self.tickets.add(number)
        return number

    def violation(self, what: str) -> None:
        """A security violation the scenario saw (a leak, an evaluation, a forbidden move)."""
        self.violations.append(what)


def _accounting(ledger: Ledger) -> tuple[dict[str, int], set[str]]:
    """Lost and duplicated items, per token; and every ticket the tokens reached."""
    lost = dup_tickets = dup_articles = 0
    reached: set[str] = set()
    recorded: list[bytes] | None = None
    with ledger.stack.sessions() as session:
        for token in ledger.tokens:
            like = f"%{token}%"
            numbers = set(session.scalars(select(Ticket.number).where(Ticket.subject.like(like))))
            bodies = list(
                session.scalars(
                    select(Message.ticket_number).where(
                        Message.attached.is_(True),
                        Message.sender_role == "customer",
                        Message.body.like(like),
                    )
                )
            )
            numbers |= set(bodies)
            dup_tickets += max(0, len(numbers) - 1)
            dup_articles += sum(n - 1 for n in Counter(bodies).values() if n > 1)
            reached |= numbers
            if numbers:
                continue
            if recorded is None:  # mail kept with a reason (ignored, quarantined): its bytes
                recorded = [
                    raw
                    for raw in session.scalars(
                        select(InboundMessage.raw).where(
                            InboundMessage.status.in_(FINAL_INBOUND),
                            InboundMessage.received_at >= ledger.opened,
                        )
                    )
                ]
            # neither a ticket, a message nor a record with a reason
            lost += not any(token.encode() in raw for raw in recorded)
    # A 202 whose ticket never started has no ticket row: lost after 2xx, counted above.
    return {"tickets_lost": lost, "dup_tickets": dup_tickets, "dup_articles": dup_articles}, reached


def _calls_started_twice(ledger: Ledger) -> int:
    """Originates the PBX took beyond the calls asked for, per ticket (R16: a double click,
    an activity retry), and beyond one per call key anywhere."""
    if ledger.pbx is None:
        return 0
    keys = [o.get("ChannelId", "") for o in list(ledger.pbx.originated)]
    twice = len(keys) - len(set(keys))
    for number, asked in ledger.calls.items():
        placed = {k for k in keys if k.startswith(f"td.{number}.")}
        twice += max(0, len(placed) - asked)
    return twice


def _emails_sent_twice(ledger: Ledger) -> int:
    """Outgoing mails the sink accepted more than once (same Message-ID, same recipients)."""
    caught = list(ledger.stack.sink.caught)[ledger.sink_mark :]
    seen = Counter((m.message_id, tuple(sorted(m.recipients))) for m in caught if m.message_id)
    return max(0, sum(n - 1 for n in seen.values()) - ledger.allowed_twice)


def _sms_sent_twice(ledger: Ledger, numbers: set[str]) -> tuple[int, int]:
    """Logical SMS sends (their reference: ticket, event, message, number) the stand-in
    accepted more than once, beyond the sends whose answer was lost (R16: each of those may
    go once more, flagged); and how many such ambiguous sends there were."""
    if ledger.sms_gateway is None:
        return 0, 0
    twice = sum(n - 1 for n in ledger.sms_gateway.references().values() if n > 1)
    with ledger.stack.sessions() as session:
        ambiguous = len(
            list(
                session.scalars(
                    select(Message.id)
                    .where(Message.ticket_number.in_(numbers))
                    .where(Message.delivery_ambiguous.is_(True))
                )
            )
        )
    return max(0, twice - ambiguous), ambiguous


async def _workflow_counts(client: Client, ledger: Ledger, numbers: set[str]) -> dict[str, int]:
    """Per ticket: its workflow's state against its projection row; failed or stuck runs."""
    drift = stuck = failed = 0
    with ledger.stack.sessions() as session:
        rows = {
            t.number: (t.state, t.event_seq, t.process_version)
            for t in session.scalars(select(Ticket).where(Ticket.number.in_(numbers)))
        }
    for number in sorted(numbers):
        handle = client.get_workflow_handle(ticket_workflow_id(number))
        try:
            described = await handle.describe(rpc_timeout=timedelta(seconds=5))
        except RPCError:
            stuck += 1  # a ticket we touched without a workflow
            continue
        if described.status in FAILED:
            failed += 1
            ledger.notes.append(f"{number}: {described.status.name}")
            continue
        raw = described.raw_description
        retrying = [a for a in raw.pending_activities if a.attempt >= STUCK_ATTEMPTS]
        task = raw.pending_workflow_task
        if retrying or (raw.HasField("pending_workflow_task") and task.attempt >= STUCK_ATTEMPTS):
            stuck += 1
            ledger.notes.append(f"{number}: retrying")
            continue
        try:
            snapshot: TicketSnapshot = await handle.query(
                QUERY_SNAPSHOT, result_type=TicketSnapshot, rpc_timeout=timedelta(seconds=5)
            )
        except Exception as exc:  # no answer within 5 s after quiescence: stuck
            stuck += 1
            ledger.notes.append(f"{number}: query {type(exc).__name__}")
            continue
        live = (snapshot.state, snapshot.seq, snapshot.process_version)
        if rows.get(number) != live:
            drift += 1
            ledger.notes.append(f"{number}: db {rows.get(number)} != workflow {live}")
    return {"projection_drift": drift, "stuck": stuck, "failed_wf": failed}


def count(ledger: Ledger) -> dict[str, Any]:
    """One look at every counter (no waiting)."""
    ledger.notes.clear()
    result: dict[str, Any] = {}
    accounted, reached = _accounting(ledger)
    result.update(accounted)
    result["emails_sent_twice"] = _emails_sent_twice(ledger)
    sms_twice, result["sms_ambiguous"] = _sms_sent_twice(ledger, ledger.tickets | reached)
    result["sms_sent_twice"] = sms_twice
    result["calls_started_twice"] = _calls_started_twice(ledger)
    numbers = ledger.tickets | reached
    result.update(
        ledger.stack.runtime.temporal.run(
            lambda engine: _workflow_counts(engine.client, ledger, numbers)
        )
    )
    result["security_violations"] = len(ledger.violations)
    result["tickets_checked"] = len(numbers)
    result["items"] = len(ledger.tokens)
    return result


def reconcile(ledger: Ledger, *, settle: float = 20.0, record: bool = True) -> dict[str, Any]:
    """The scoreboard counters once the system is quiet: counted again (projections and
    mail may still be on their way) until all are zero or ``settle`` seconds have passed;
    a zero that stays zero is checked once more after a pause, for late duplicates."""
    deadline = time.monotonic() + settle
    while True:
        result = count(ledger)
        settling = [k for k in ZERO if result[k] and k != "security_violations"]
        if not settling or time.monotonic() >= deadline:
            break  # (violations were seen: waiting changes nothing)
        time.sleep(0.5)
    if not any(result[k] for k in ZERO if k != "security_violations"):
        time.sleep(0.3)
        result = count(ledger)
    result.update(ledger.measured)
    noted = [str(ledger.measured.get("notes", "")), *ledger.notes, *ledger.violations]
    result["notes"] = "; ".join(n for n in noted if n)[:500]
    if record:
        _write(ledger, result)
    return result


def _write(ledger: Ledger, result: dict[str, Any]) -> None:
    path = os.environ.get(LEDGER_FILE)
    if not path:
        return
    row = {"run": os.environ.get(RUN, "1"), "scenario": ledger.scenario, "variant": ledger.variant}
    row["test"] = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]  # " (call)"
    row.update(result)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row, default=str) + "\n")


def assert_clean(
    ledger: Ledger, *, settle: float = 20.0, record: bool = True, pytrace: bool = True
) -> dict[str, Any]:
    """Reconcile and assert every counter of the release gate is zero (``record``: put the
    result on the scoreboard; a scenario records its last look only). ``pytrace=False``
    fails without a traceback (pytest's source rendering has crashed after hostile input)."""
    result = reconcile(ledger, settle=settle, record=record)
    dirty = {k: result[k] for k in ZERO if result[k]}
    if dirty:
        message = f"{ledger.scenario} ledger: {dirty} ({result['notes']})"
        if not pytrace:
            pytest.fail(message, pytrace=False)
        raise AssertionError(message)
    return result
