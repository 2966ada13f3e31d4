"""Mail intake: a burst of mail from a real IMAP server to visible tickets (RELIABILITY R6).

    .venv/bin/python -m benchmarks.mail_intake                 # 1,000 messages (make bench-mail)
    .venv/bin/python -m benchmarks.mail_intake --quick         # 40 small ones, for the tests
    .venv/bin/python -m benchmarks.mail_intake --messages 300 --database sqlite --keep-tmp

Prints one JSON document to stdout; logs go to stderr. Exit status 0 when every message became
visible exactly once, 1 otherwise (lost or duplicated mail, a stall, a failed step: the JSON
says which), 130 when interrupted.

The stack is benchmarks/stack.py's (fresh Temporal dev server on a WAL SQLite file, throwaway
database, migrations and demo seed, ``python -m tempodesk.app.cli worker`` as its own process),
plus a private Dovecot (tests/dovecot.py) and an SMTP catcher (tempodesk.mail.sink) for the
acknowledgements. One mailbox points at Dovecot (poll every 10 s, import existing mail).

1. Warm-up (not measured): a few new tickets go through the mailbox workflow and get their
   acknowledgements, so imports, caches and connection pools are warm and there are real
   acknowledgements to reply to. The mailbox workflow is then stopped.
2. The burst is APPENDed while nothing polls (timed on its own): new tickets, replies threaded
   with In-Reply-To/References to an acknowledgement of a warm-up ticket or to the customer's
   first mail of an earlier ticket in the burst (the follow-up path), some with 1-2 MB
   attachments.
3. The baseline (below) runs against the same Temporal server; then the reference the mail
   path is held to: as many tickets created through the API (benchmarks.run's intake: POST,
   then GET until readable) from 8 clients (``--api-clients``), with CPU per ticket of every
   part of the stack; ``ratios.mail_over_api`` is the mail rate over that rate (the aim of
   issue 17: >= 0.8).
4. The drain: ``TemporalFacade.ensure_mailbox`` starts the MailboxWorkflow, whose poll activity
   fetches batches of 50 back to back (fetch by UID, store, route side by side by
   conversation), the next batch fetched while the one before is delivered and flagged. A
   watcher polls the database until every message has an ``inbound_messages`` row with a
   final status and what it made is visible: the ticket row in the projection, or the
   follow-up attached to its ticket's timeline.

Arrival is the start of the drain (all mail is waiting in the INBOX); a message is visible at
the ``processed_at`` of its inbound row (intake returns only once a new ticket is projected),
for a follow-up at the first moment the watcher saw it attached, if later. Throughput is the
burst size over the time until the last message was visible.

The bare-engine baseline isolates what Temporal itself costs per ticket on this machine:
update-with-start of benchmarks/baseline.py's trivial workflow (three no-op local activities
before the update answers, like a ticket's link_customer, choose_assignee and project), as many
calls as the burst has messages, straight through the temporalio Client, from a closed pool of
8 (the engine's capacity) and of 1 (one round trip after another, as the poll activity handles
its messages). Everything Tempodesk adds — IMAP, MIME parsing, the database writes of intake
and projection, search attributes, acknowledgements — is the gap between the two.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.policy
import itertools
import logging
import os
import random
import shutil
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from benchmarks.baseline import OPEN_LOCAL_ACTIVITIES
from benchmarks.load import CpuMeter, CpuSample, percentile
from benchmarks.run import (
    Bench,
    _interference,
    machine_info,
    positive_int,
    prepare_process,
    run_reported,
)
from benchmarks.stack import NAMESPACE, Stack, StackOptions, build_stack

log = logging.getLogger("benchmarks")

BASELINE = f"update_with_start_{OPEN_LOCAL_ACTIVITIES}_local_activities"
MAILBOX = "bench-mail"
MAILBOX_USER = "benchmail"
MAILBOX_PASSWORD = "bench-pass"
CUSTOMER_DOMAIN = "customer.example"
POLL_SECONDS = 10
WATCH_INTERVAL = 0.2
RETURNING_SHARE = 0.1  # new tickets from a customer who already wrote in this burst
HTML_SHARE = 0.5  # messages with an HTML alternative, as most mail clients send
ACK_REPLY_SHARE = 0.25  # replies to an acknowledgement rather than to the customer's own mail
OUTCOMES = ("ticket", "follow_up", "ignored", "quarantined")


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a share is from 0 to 1")
    return value


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("use numbers separated by commas, e.g. 8,1") from None
    if not levels or any(level < 1 or level > 256 for level in levels):
        raise argparse.ArgumentTypeError("each level is 1 to 256 clients")
    return levels


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mail_intake",
        description="A burst of mail from IMAP to visible tickets beside a bare-Temporal "
        "baseline; prints JSON to stdout.",
    )
    parser.add_argument("--messages", type=positive_int, help="burst size (default 1000)")
    parser.add_argument(
        "--quick", action="store_true", help="a small burst (40 messages, small attachments)"
    )
    parser.add_argument(
        "--replies-share",
        type=_share,
        default=0.2,
        help="share of the burst that replies to earlier tickets (default 0.2)",
    )
    parser.add_argument(
        "--attachments-share",
        type=_share,
        default=0.1,
        help="share of the burst with a 1-2 MB attachment (100-200 KB with --quick; default 0.1)",
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--baseline-clients",
        type=_levels,
        default=[8, 1],
        help="baseline concurrency levels, the first is the reference (default 8,1)",
    )
    parser.add_argument(
        "--temporal-config",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a dynamic config value for the dev server (repeatable), e.g. "
        "history.transferProcessorMaxPollRPS=1000; default: none, as `make dev` runs it",
    )
    parser.add_argument(
        "--api-clients",
        type=positive_int,
        default=8,
        help="clients of the API-intake reference measured in the same run (default 8)",
    )
    parser.add_argument(
        "--api-tickets",
        type=int,
        help="tickets the API-intake reference creates (default: as many as the burst; 0: skip)",
    )
    parser.add_argument("--warmup", type=int, help="warm-up tickets (default 20, 4 with --quick)")
    parser.add_argument("--seed", type=int, default=6, help="the burst's random seed")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=120.0,
        help="give up when nothing new became visible for this many seconds (default 120)",
    )
    parser.add_argument(
        "--keep-tmp", action="store_true", help="keep the temporary folder (logs) for a look"
    )
    args = parser.parse_args(argv)
    if args.messages is None:
        args.messages = 40 if args.quick else 1000
    if args.warmup is None:
        args.warmup = 4 if args.quick else 20
    if args.api_tickets is None:
        args.api_tickets = args.messages
    args.warmup = max(args.warmup, 0)
    args.attachment_bytes = (100 * 1024, 200 * 1024) if args.quick else (1 << 20, 2 << 20)
    return args


# ---------------------------------------------------------------------------- the burst

SUBJECTS = (
    "My kettle stopped heating",
    "Order {order}: wrong colour delivered",
    "Invoice question",
    "Cannot log in to my account",
    "Parcel never arrived ({order})",
    "Refund for a returned item",
    "The app crashes when I upload a photo",
    "Change my delivery address",
    "Warranty claim: coffee grinder",
    "Double charge on my card",
    "Where is my order {order}?",
    "Question about the X200 manual",
)
PARAGRAPHS = (
    "I bought it three weeks ago and since yesterday it does not work any more. "
    "I tried another socket and the reset button, nothing helps.",
    "Could you please tell me what to do next? I would prefer a replacement, but a repair "
    "is fine as long as it does not take more than two weeks.",
    "My customer number should be on the invoice; I attached what I have.",
    "The tracking page has said 'in transit' for nine days now, and the hotline keeps "
    "sending me to this address.",
    "Thank you for your help, and sorry for the long message. It is the second time this "
    "happens and I would like to understand why.",
    "I am travelling from Monday, so e-mail is the best way to reach me. If you need photos "
    "of the damage I can send them tonight.",
    "When I open the settings page I see an error 'something went wrong' and the page stays "
    "empty. I use the latest version on my phone.",
)
REPLIES = (
    "Here is the information you asked for: the serial number is on the back, SN-{n}.",
    "Any news on this? I have not heard from you for a few days.",
    "One more thing: the same happens with my second device.",
    "Thanks, that helped partly, but the problem is back this morning.",
    "I attached a photo of the label, hope that is enough.",
)
FIRST = ("Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas")
LAST = ("Berg", "Novak", "Okafor", "Schmidt", "Lindqvist", "Moreau", "Rossi", "Tanaka")


@dataclass
class Thread:
    """A ticket a reply can continue: the customer, their first mail, our last mail to them."""

    sender: str
    name: str
    subject: str
    first_mail: str  # bare Message-ID
    acknowledgement: str = ""  # bare Message-ID of our acknowledgement, if it is known
    ack_subject: str = ""


@dataclass
class Planned:
    """One message of the burst (or of the warm-up), before it is rendered."""

    index: int
    message_id: str  # bare, no <>
    sender: str
    name: str
    subject: str
    body: str
    html: bool
    expected: str  # ticket | follow_up
    replies_to: str = ""  # first_mail | acknowledgement
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    thread: int | None = None  # index into the threads the reply continues
    attachment: int = 0  # bytes


@dataclass
class Burst:
    messages: list[Planned]
    threads: list[Thread]  # warm-up threads first, then the burst's new tickets

    def counts(self) -> dict[str, int]:
        kinds = Counter(p.replies_to or "new" for p in self.messages)
        return {
            "messages": len(self.messages),
            "new_tickets": kinds["new"],
            "replies": len(self.messages) - kinds["new"],
            "replies_to_first_mail": kinds["first_mail"],
            "replies_to_acknowledgement": kinds["acknowledgement"],
            "with_attachment": sum(1 for p in self.messages if p.attachment),
            "distinct_new_ticket_senders": len(
                {p.sender for p in self.messages if p.expected == "ticket"}
            ),
        }


def _new_message(rng: random.Random, run: str, prefix: str, index: int) -> Planned:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    order = f"ORD-{rng.randint(10000, 99999)}"
    paragraphs = rng.sample(PARAGRAPHS, rng.randint(2, 4))
    return Planned(
        index=index,
        message_id=f"{prefix}-{run}-{index}@{CUSTOMER_DOMAIN}",
        sender=f"{prefix}{index}.{run}@{CUSTOMER_DOMAIN}",
        name=name,
        subject=rng.choice(SUBJECTS).format(order=order),
        body="Hello,\n\n" + "\n\n".join(paragraphs) + f"\n\nKind regards,\n{name}\n",
        html=rng.random() < HTML_SHARE,
        expected="ticket",
    )


def plan_warmup(count: int, run: str, seed: int) -> list[Planned]:
    rng = random.Random(seed * 7919 + 1)
    return [_new_message(rng, run, "warm", i) for i in range(count)]


def plan_burst(args: argparse.Namespace, run: str, warm: list[Thread]) -> Burst:
    """New tickets and replies in a random order in which every reply comes after its ticket."""
    rng = random.Random(args.seed)
    n = args.messages
    replies = min(round(n * args.replies_share), n - 1)
    kinds = ["new"] * (n - replies) + ["reply"] * replies
    rng.shuffle(kinds)
    if kinds[0] == "reply":  # the first reply needs an earlier ticket to continue
        kinds[kinds.index("new")], kinds[0] = "reply", "new"
    threads = list(warm)
    acknowledged = [i for i, t in enumerate(warm) if t.acknowledgement]
    messages: list[Planned] = []
    burst_threads: list[int] = []
    for index, kind in enumerate(kinds):
        if kind == "new":
            planned = _new_message(rng, run, "c", index)
            if burst_threads and rng.random() < RETURNING_SHARE:
                returning = threads[rng.choice(burst_threads)]
                planned.sender, planned.name = returning.sender, returning.name
            threads.append(
                Thread(planned.sender, planned.name, planned.subject, planned.message_id)
            )
            burst_threads.append(len(threads) - 1)
            messages.append(planned)
            continue
        if acknowledged and rng.random() < ACK_REPLY_SHARE:
            number = rng.choice(acknowledged)
            thread = threads[number]
            replies_to, parent = "acknowledgement", thread.acknowledgement
            references = [thread.first_mail, thread.acknowledgement]
            subject = f"Re: {thread.ack_subject}"
        else:
            number = rng.choice(burst_threads)
            thread = threads[number]
            replies_to, parent = "first_mail", thread.first_mail
            references = [thread.first_mail]
            subject = f"Re: {thread.subject}"
        quoted = "\n".join(f"> {line}" for line in thread.subject.splitlines())
        messages.append(
            Planned(
                index=index,
                message_id=f"r-{run}-{index}@{CUSTOMER_DOMAIN}",
                sender=thread.sender,
                name=thread.name,
                subject=subject,
                body=f"{rng.choice(REPLIES).format(n=rng.randint(1000, 9999))}\n\n"
                f"{thread.name}\n\nOn an earlier day, support wrote:\n{quoted}\n",
                html=rng.random() < HTML_SHARE,
                expected="follow_up",
                replies_to=replies_to,
                in_reply_to=parent,
                references=references,
                thread=number,
            )
        )
    low, high = args.attachment_bytes
    for index in rng.sample(range(n), round(n * args.attachments_share)):
        messages[index].attachment = rng.randint(low, high)
    return Burst(messages, threads)


def render(planned: Planned, to: str, seed: int) -> bytes:
    """The message as a mail client would send it (CRLF, MIME)."""
    message = EmailMessage()
    message["From"] = formataddr((planned.name, planned.sender))
    message["To"] = to
    message["Subject"] = planned.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{planned.message_id}>"
    if planned.in_reply_to:
        message["In-Reply-To"] = f"<{planned.in_reply_to}>"
        message["References"] = " ".join(f"<{ref}>" for ref in planned.references)
    message.set_content(planned.body)
    if planned.html:
        paragraphs = "".join(
            f"<p>{p.replace('&', '&amp;').replace('<', '&lt;')}</p>"
            for p in planned.body.split("\n\n")
        )
        message.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    if planned.attachment:
        data = b"%PDF-1.4\n" + random.Random(seed * 100_003 + planned.index).randbytes(
            planned.attachment - 9
        )
        message.add_attachment(
            data, maintype="application", subtype="pdf", filename=f"scan-{planned.index}.pdf"
        )
    return message.as_bytes(policy=email.policy.SMTP)


# ---------------------------------------------------------------------------- measuring


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def distribution(values: list[float]) -> dict[str, Any]:
    """p50/p95/p99/max/mean of seconds, in milliseconds."""
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": _ms(percentile(ordered, 50)),
        "p95_ms": _ms(percentile(ordered, 95)),
        "p99_ms": _ms(percentile(ordered, 99)),
        "max_ms": _ms(ordered[-1] if ordered else None),
        "mean_ms": _ms(sum(ordered) / len(ordered) if ordered else None),
    }


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def tree_cpu(root: int) -> float | None:
    """CPU seconds of a process, its reaped children and its live descendants (Dovecot starts
    one short-lived imap process per connection)."""
    fields = _stat_fields(root)
    if fields is None:
        return None
    total = sum(int(v) for v in fields[11:15])
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (child := _stat_fields(int(entry.name))) is not None:
            parents[int(entry.name)] = int(child[1])
    tree = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    for pid in tree - {root}:
        child = _stat_fields(pid)
        if child is not None:
            total += sum(int(v) for v in child[11:15])
    return total / _TICK


class Meter(CpuMeter):
    """benchmarks.load.CpuMeter plus Dovecot's process tree."""

    def __init__(self, pids: dict[str, int], *, postgres_database: str | None, dovecot: int):
        super().__init__(pids, postgres_database=postgres_database)
        self.dovecot = dovecot

    def sample(self) -> CpuSample:
        result = super().sample()
        value = tree_cpu(self.dovecot)
        if value is not None:
            result.parts["dovecot"] = {self.dovecot: value}
        return result


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak since the process started), in kB."""
    values: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1])
    return values


def log_problems(path: Path, offset: int) -> dict[str, int]:
    """WARNING and ERROR lines a process logged from ``offset`` on, by level and logger (its
    format is "%(asctime)s %(name)s %(levelname)s %(message)s"); tracebacks count once."""
    counts: Counter[str] = Counter()
    with contextlib.suppress(OSError), open(path, "rb") as handle:
        handle.seek(offset)
        for line in handle.read().decode(errors="replace").splitlines():
            words = line.split(" ", 4)
            if len(words) >= 4 and words[3] in ("WARNING", "ERROR", "CRITICAL"):
                counts[f"{words[3]} {words[2]}"] += 1
    return dict(counts.most_common())


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite gives naive datetimes; we store UTC
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


@dataclass
class Row:
    id: int
    rfc: str
    status: str
    ticket: str | None
    message: int | None
    uid: int | None
    size: int
    received: float
    processed: float


class Watcher:
    """Polls the database for the burst's inbound rows and for what they made visible.

    Records the wall time at which it first saw a ticket row and an attached follow-up, and
    samples the worker's RSS on the way. Reads only small columns, never the raw mail.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        mailbox: str,
        expected: set[str],
        after_id: int,
        worker_pid: int | None,
    ):
        self.sessions = sessions
        self.mailbox = mailbox
        self.expected = expected
        self.after_id = after_id
        self.worker_pid = worker_pid
        self.rows: dict[str, Row] = {}
        self.tickets_seen: dict[str, float] = {}
        self.attached_seen: dict[int, float] = {}
        self.rss_peak_kb = 0

    def pending(self) -> tuple[list[str], list[int]]:
        tickets = sorted(
            {
                r.ticket
                for r in self.rows.values()
                if r.status == "ticket" and r.ticket and r.ticket not in self.tickets_seen
            }
        )
        follow_ups = sorted(
            r.message
            for r in self.rows.values()
            if r.status == "follow_up" and r.message is not None
            if r.message not in self.attached_seen
        )
        return tickets, follow_ups

    def poll(self) -> None:
        from tempodesk.core.models import InboundMessage, Message, Ticket
        from tempodesk.mail.inbound import FINAL

        now = time.time()
        with self.sessions() as session:
            found = session.execute(
                select(
                    InboundMessage.id,
                    InboundMessage.rfc_message_id,
                    InboundMessage.status,
                    InboundMessage.ticket_number,
                    InboundMessage.message_id,
                    InboundMessage.imap_uid,
                    InboundMessage.size,
                    InboundMessage.received_at,
                    InboundMessage.processed_at,
                )
                .where(InboundMessage.mailbox == self.mailbox)
                .where(InboundMessage.id > self.after_id)
                .where(InboundMessage.status.in_(FINAL))
            ).all()
            for id_, rfc, status, ticket, message, uid, size, received, processed in found:
                if rfc in self.expected and rfc not in self.rows:
                    self.rows[rfc] = Row(
                        id_,
                        rfc,
                        status,
                        ticket,
                        message,
                        uid,
                        size,
                        _epoch(received) or now,
                        _epoch(processed) or now,
                    )
            tickets, follow_ups = self.pending()
            if tickets:
                for number in session.scalars(
                    select(Ticket.number).where(Ticket.number.in_(tickets))
                ):
                    self.tickets_seen[number] = now
            if follow_ups:
                for message_id in session.scalars(
                    select(Message.id).where(Message.id.in_(follow_ups)).where(Message.attached)
                ):
                    self.attached_seen[message_id] = now
        if self.worker_pid is not None:
            self.rss_peak_kb = max(self.rss_peak_kb, rss_kb(self.worker_pid).get("VmRSS", 0))

    def done(self) -> bool:
        tickets, follow_ups = self.pending()
        return len(self.rows) >= len(self.expected) and not tickets and not follow_ups

    def progress(self) -> int:
        return len(self.rows) + len(self.tickets_seen) + len(self.attached_seen)

    def visible_at(self, row: Row) -> float | None:
        """When what this message made could be read, or None if it never could."""
        if row.status == "ticket":
            return row.processed if row.ticket in self.tickets_seen else None
        if row.status == "follow_up":
            seen = self.attached_seen.get(row.message) if row.message is not None else None
            return None if seen is None else max(row.processed, seen)
        return row.processed


# ---------------------------------------------------------------------------- the benchmark


class MailBench:
    def __init__(self, args: argparse.Namespace, stack: Stack, cleanup: contextlib.ExitStack):
        from tempodesk.core.db import make_engine, make_session_factory
        from tempodesk.core.temporal import TemporalFacade
        from tempodesk.mail.sink import MailSink
        from tests.dovecot import DovecotServer

        self.args = args
        self.stack = stack
        self.run_id = uuid.uuid4().hex[:6]
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.engine: Engine = make_engine(stack.db_url)
        cleanup.callback(self.engine.dispose)
        self.sessions = make_session_factory(self.engine)

        self.sink = MailSink(stack.settings.smtp_port)
        self.sink.start()
        cleanup.callback(self.sink.stop)
        log.info("SMTP catcher on 127.0.0.1:%d", stack.settings.smtp_port)

        self.dovecot = DovecotServer()
        cleanup.callback(self._stop_dovecot)
        self.dovecot.start()
        assert self.dovecot.process is not None
        self.dovecot_pid = self.dovecot.process.pid
        self.dovecot.add_user(MAILBOX_USER, MAILBOX_PASSWORD)
        log.info(
            "Dovecot on %s:%d (pid %d)", self.dovecot.host, self.dovecot.port, self.dovecot_pid
        )

        self.facade = TemporalFacade(stack.settings)
        cleanup.callback(self.facade.close)
        self.address = f"{MAILBOX}@{stack.settings.message_id_domain}"
        self.meter = Meter(
            stack.pids,
            postgres_database=stack.db_url.rsplit("/", 1)[1]
            if args.database == "postgresql"
            else None,
            dovecot=self.dovecot_pid,
        )

    def _stop_dovecot(self) -> None:
        problems = self.dovecot.problems()
        if problems:
            log.warning("Dovecot logged problems:\n%s", "\n".join(problems[:10]))
        if self.args.keep_tmp and self.dovecot.folder is not None:
            with contextlib.suppress(OSError):
                shutil.copy(self.dovecot.folder / "dovecot.log", self.stack.tmp / "dovecot.log")
        self.dovecot.stop()

    # -- set-up

    def save_mailbox(self) -> None:
        from tempodesk.core.db import transaction
        from tempodesk.mail import mailboxes

        with transaction(self.sessions) as session:
            mailboxes.save(
                session,
                MAILBOX,
                self.stack.settings,
                address=self.address,
                values={
                    "label": "Benchmark mailbox",
                    "imap_host": self.dovecot.host,
                    "imap_port": self.dovecot.port,
                    "imap_security": "none",
                    "imap_username": MAILBOX_USER,
                    "folder": "INBOX",
                    "poll_seconds": POLL_SECONDS,
                    "import_existing": True,
                },
                imap_password=MAILBOX_PASSWORD,
            )

    def _temporal(self, coro: Callable[[Client], Any]) -> Any:
        async def main() -> Any:
            client = await Client.connect(self.stack.temporal_address, namespace=NAMESPACE)
            return await coro(client)

        return asyncio.run(main())

    def stop_polling(self) -> dict[str, Any]:
        """Signal the mailbox workflow to stop, wait for it; return its run's history size."""
        from tempodesk.contracts import SIGNAL_STOP
        from tempodesk.core.ids import mailbox_workflow_id

        async def stop(client: Client) -> dict[str, Any]:
            handle = client.get_workflow_handle(mailbox_workflow_id(MAILBOX))
            await handle.signal(SIGNAL_STOP)
            await asyncio.wait_for(handle.result(), 60)
            described = await handle.describe()
            return {"history_events": described.history_length}

        result: dict[str, Any] = self._temporal(stop)
        return result

    def _max_inbound_id(self) -> int:
        from tempodesk.core.models import InboundMessage

        with self.sessions() as session:
            return session.scalar(select(func.max(InboundMessage.id))) or 0

    def warm_up(self) -> list[Thread]:
        """Unmeasured tickets through the same path; their acknowledgements become threads."""
        from tempodesk.core.models import InboundMessage, Message

        planned = plan_warmup(self.args.warmup, self.run_id, self.args.seed)
        baseline = Bench(self.args, self.stack).baseline_start(1, max(self.args.warmup, 2))
        self.errors.extend(f"baseline warm-up: {e}" for e in baseline.errors[:5])
        if not planned:
            return []
        self.dovecot.append_many(
            MAILBOX_USER, (render(p, self.address, self.args.seed) for p in planned)
        )
        self.facade.ensure_mailbox(MAILBOX)
        ids = {p.message_id for p in planned}
        deadline = time.monotonic() + 120
        threads: list[Thread] = []
        numbers: dict[str, str] = {}
        acks: dict[str, tuple[str | None, str]] = {}
        while time.monotonic() < deadline:
            with self.sessions() as session:
                rows = session.execute(
                    select(InboundMessage.rfc_message_id, InboundMessage.ticket_number)
                    .where(InboundMessage.mailbox == MAILBOX)
                    .where(InboundMessage.rfc_message_id.in_(ids))
                    .where(InboundMessage.status == "ticket")
                ).all()
                numbers = {rfc: number for rfc, number in rows if number}
                acks = {
                    number: (smtp_id, subject)
                    for number, smtp_id, subject in session.execute(
                        select(Message.ticket_number, Message.smtp_message_id, Message.subject)
                        .where(Message.ticket_number.in_(list(numbers.values())))
                        .where(Message.sender_role == "system")
                        .where(Message.attached)
                        .where(Message.smtp_message_id.is_not(None))
                    )
                }
            if len(numbers) == len(ids) and len(acks) == len(ids):
                break
            time.sleep(0.2)
        else:
            self.warnings.append(
                f"warm-up: {len(numbers)} of {len(ids)} tickets and {len(acks)} acknowledgements "
                "after 120 s; replies go to first mails only"
            )
        for p in planned:
            ack = acks.get(numbers.get(p.message_id, ""))
            threads.append(
                Thread(
                    p.sender,
                    p.name,
                    p.subject,
                    p.message_id,
                    acknowledgement=(ack[0] or "").strip("<>") if ack else "",
                    ack_subject=ack[1] if ack else "",
                )
            )
        self.stop_polling()
        log.info("warm-up: %d tickets, %d acknowledgements", len(numbers), len(acks))
        return threads

    def append(self, burst: Burst) -> dict[str, Any]:
        sizes: list[int] = []

        def rendered() -> Iterator[bytes]:
            for planned in burst.messages:
                raw = render(planned, self.address, self.args.seed)
                sizes.append(len(raw))
                yield raw

        started = time.perf_counter()
        count = self.dovecot.append_many(MAILBOX_USER, rendered())
        elapsed = time.perf_counter() - started
        log.info("appended %d messages (%.1f MB) in %.1f s", count, sum(sizes) / 1e6, elapsed)
        return {
            "append_s": round(elapsed, 2),
            "append_messages_per_s": round(count / elapsed, 1) if elapsed > 0 else None,
            "bytes_total": sum(sizes),
            "bytes_largest": max(sizes, default=0),
            "bytes_median": int(percentile(sorted(sizes), 50) or 0),
        }

    def baseline(self) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        for clients in self.args.baseline_clients:
            outcome = Bench(self.args, self.stack).baseline_start(clients, self.args.messages)
            summary = outcome.summary()
            results[str(clients)] = summary
            self.errors.extend(f"baseline @{clients}: {e}" for e in outcome.errors[:5])
            log.info(
                "baseline %s %3d clients: %7.1f/s  p50 %7.1f ms  p99 %7.1f ms  n=%d",
                BASELINE,
                clients,
                summary["throughput_per_s"] or 0,
                summary["p50_ms"] or 0,
                summary["p99_ms"] or 0,
                summary["n"],
            )
        return results

    def api_intake(self) -> dict[str, Any]:
        """The reference the mail path is held to: tickets created through the API (POST, then
        GET until readable; benchmarks.run's intake) from ``--api-clients`` clients, in the
        same run on the same stack, with CPU per ticket of every server process."""
        clients, total = self.args.api_clients, self.args.api_tickets
        if total <= 0:
            return {}
        outcome = Bench(self.args, self.stack).intake(clients, total)
        summary = outcome.summary()
        self.errors.extend(f"api intake @{clients}: {e}" for e in outcome.errors[:5])
        if outcome.cpu and summary["n"]:
            summary["cpu_ms_per_ticket_stack"] = stack_cpu_ms(outcome.cpu, summary["n"])
        log.info(
            "api intake %d clients: %.1f/s  p50 %.1f ms  p99 %.1f ms  n=%d",
            clients,
            summary["throughput_per_s"] or 0,
            summary["p50_ms"] or 0,
            summary["p99_ms"] or 0,
            summary["n"],
        )
        return {"clients": clients, **summary}

    # -- the drain

    def drain(self, burst: Burst, after_id: int) -> tuple[Watcher, float, float, dict[str, Any]]:
        expected = {p.message_id for p in burst.messages}
        worker_pid = self.stack.pids.get("worker")
        watcher = Watcher(self.sessions, MAILBOX, expected, after_id, worker_pid)
        rss_before = rss_kb(worker_pid) if worker_pid else {}
        worker_log = self.stack.tmp / "worker.log"
        log_offset = worker_log.stat().st_size if worker_log.exists() else 0
        cpu_before = self.meter.sample()
        started = time.time()
        self.facade.ensure_mailbox(MAILBOX)  # starts the workflow: the first poll follows
        log.info("draining %d messages", len(expected))
        last_progress, progress, last_log = time.monotonic(), 0, time.monotonic()
        while True:
            watcher.poll()
            if watcher.done():
                break
            now = time.monotonic()
            if watcher.progress() != progress:
                progress, last_progress = watcher.progress(), now
            elif now - last_progress > self.args.stall_timeout:
                self.errors.append(
                    f"stalled: nothing new became visible for {self.args.stall_timeout:.0f} s "
                    f"({len(watcher.rows)} of {len(expected)} messages processed)"
                )
                break
            if now - last_log > 10:
                log.info("  %d of %d processed", len(watcher.rows), len(expected))
                last_log = now
            time.sleep(WATCH_INTERVAL)
        observed = time.time() - started
        cpu = self.meter.spent(cpu_before, self.meter.sample())
        log.info("drain observed complete after %.1f s", observed)
        return (
            watcher,
            started,
            observed,
            {
                "cpu": cpu,
                "rss_before_kb": rss_before,
                "worker_log_problems": log_problems(worker_log, log_offset),
            },
        )

    def acknowledgements(self, burst: Burst, started: float) -> dict[str, Any]:
        """Automatic replies to the burst's new-ticket senders, as the SMTP catcher saw them."""
        senders = {p.sender.lower() for p in burst.messages if p.expected == "ticket"}
        timeout = 30 if self.args.quick else 90

        def caught() -> list[Any]:
            return [
                m
                for m in list(self.sink.caught)
                if m.received >= started
                and str(m.message.get("Auto-Submitted", "")).startswith("auto")
                and any(r.lower() in senders for r in m.recipients)
            ]

        deadline = time.monotonic() + timeout
        while len(caught()) < len(senders) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # a duplicate would come right behind
        mails = caught()
        per_address = Counter(
            r.lower() for m in mails for r in m.recipients if r.lower() in senders
        )
        result: dict[str, Any] = {
            "expected": len(senders),
            "sent": len(mails),
            "addresses": len(per_address),
            "duplicates": sum(count - 1 for count in per_address.values()),
            "last_sent_after_s": round(max(m.received for m in mails) - started, 1)
            if mails
            else None,
        }
        if result["duplicates"]:
            self.warnings.append(
                f"{result['duplicates']} duplicate acknowledgements (R6: at most one per sender)"
            )
        if result["addresses"] < result["expected"]:
            self.warnings.append(
                f"only {result['addresses']} of {result['expected']} new-ticket senders got an "
                f"acknowledgement within {timeout} s of the drain"
            )
        return result

    # -- checks after the drain

    def integrity(self, burst: Burst, watcher: Watcher, after_id: int) -> dict[str, Any]:
        """Lost, duplicated, misrouted, out of order, left unflagged on the server."""
        from tempodesk.core.models import InboundMessage, Message, Ticket, TicketEvent

        expected = {p.message_id: p for p in burst.messages}
        rows = watcher.rows
        lost = sorted(set(expected) - set(rows))
        with self.sessions() as session:
            per_rfc = Counter(
                session.scalars(
                    select(InboundMessage.rfc_message_id)
                    .where(InboundMessage.mailbox == MAILBOX)
                    .where(InboundMessage.rfc_message_id.in_(list(expected)))
                )
            )
            inbound_ids = [r.id for r in rows.values()]
            per_inbound = Counter(
                session.scalars(
                    select(Message.inbound_id).where(Message.inbound_id.in_(inbound_ids))
                )
            )
            warm_numbers = set(
                session.scalars(
                    select(InboundMessage.ticket_number)
                    .where(InboundMessage.mailbox == MAILBOX)
                    .where(InboundMessage.id <= after_id)
                    .where(InboundMessage.ticket_number.is_not(None))
                )
            )
            burst_tickets = set(
                session.scalars(select(Ticket.number).where(Ticket.mailbox == MAILBOX))
            ) - {n for n in warm_numbers if n}
            message_uid = {r.message: r.uid for r in rows.values() if r.message is not None}
            warm_rows = session.execute(
                select(Message.id, InboundMessage.imap_uid)
                .join(InboundMessage, InboundMessage.id == Message.inbound_id)
                .where(InboundMessage.mailbox == MAILBOX)
                .where(InboundMessage.id <= after_id)
            ).all()
            message_uid.update({m: u for m, u in warm_rows})
            events = session.execute(
                select(TicketEvent.ticket_number, TicketEvent.seq, TicketEvent.message_id)
                .where(TicketEvent.message_id.in_(list(message_uid)))
                .order_by(TicketEvent.ticket_number, TicketEvent.seq)
            ).all()
        by_ticket: dict[str, list[int]] = {}
        for number, _seq, event_message in events:
            uid = message_uid.get(event_message) if event_message is not None else None
            if uid is not None:
                by_ticket.setdefault(number, []).append(uid)
        order_violations = sum(
            1 for uids in by_ticket.values() if any(a > b for a, b in itertools.pairwise(uids))
        )
        ticket_rows = {r.ticket for r in rows.values() if r.status == "ticket"}
        duplicates = {
            "inbound_rows": sum(c - 1 for c in per_rfc.values() if c > 1),
            "articles": sum(c - 1 for c in per_inbound.values() if c > 1),
            "tickets_without_their_own_message": len(burst_tickets - ticket_rows),
            "messages_sharing_a_ticket": sum(1 for r in rows.values() if r.status == "ticket")
            - len(ticket_rows),
        }
        # Did each message land where it belongs? A thread's ticket is the one its first mail
        # opened, in the warm-up or in the burst.
        with self.sessions() as session:
            opened = dict(
                session.execute(
                    select(InboundMessage.rfc_message_id, InboundMessage.ticket_number)
                    .where(InboundMessage.mailbox == MAILBOX)
                    .where(InboundMessage.status == "ticket")
                    .where(InboundMessage.rfc_message_id.in_([t.first_mail for t in burst.threads]))
                ).all()
            )
        unexpected: list[dict[str, Any]] = []
        misthreaded = 0
        for rfc, planned in expected.items():
            row = rows.get(rfc)
            if row is None:
                continue
            if row.status != planned.expected:
                unexpected.append({"message": rfc, "expected": planned.expected, "got": row.status})
            elif planned.thread is not None:
                misthreaded += row.ticket != opened.get(burst.threads[planned.thread].first_mail)
        unflagged = self._unflagged()
        not_visible = [r.rfc for r in rows.values() if watcher.visible_at(r) is None]
        result = {
            "lost": len(lost),
            "duplicates": sum(duplicates.values()),
            "duplicate_detail": duplicates,
            "not_visible": len(not_visible),
            "unexpected_outcomes": len(unexpected),
            "misthreaded_follow_ups": misthreaded,
            "article_order_violations": order_violations,
            "unflagged_on_server": unflagged,
        }
        if lost:
            self.errors.append(f"{len(lost)} messages lost, e.g. {lost[:3]}")
        if result["duplicates"]:
            self.errors.append(f"{result['duplicates']} duplicates: {duplicates}")
        if not_visible:
            self.errors.append(
                f"{len(not_visible)} messages never became visible: {not_visible[:3]}"
            )
        if unexpected:
            result["unexpected_samples"] = unexpected[:5]
            self.warnings.append(f"{len(unexpected)} messages had another outcome than planned")
        if misthreaded:
            self.warnings.append(f"{misthreaded} follow-ups landed on another ticket")
        if order_violations:
            self.warnings.append(
                f"{order_violations} tickets show their articles out of arrival order"
            )
        if unflagged:
            self.warnings.append(f"{unflagged} messages are still unflagged on the IMAP server")
        return result

    def _uids(self, *criteria: str) -> list[int]:
        with self.dovecot.session(MAILBOX_USER) as conn:
            conn.select("INBOX", readonly=True)
            typ, data = conn.uid("SEARCH", *(criteria or ("ALL",)))
        if typ != "OK" or not data or not isinstance(data[0], bytes):
            raise RuntimeError(f"UID SEARCH {criteria}: {typ} {data!r}")
        return [int(uid) for uid in data[0].split()]

    def _unflagged(self) -> int | None:
        from tempodesk.mail.imap import PROCESSED_KEYWORD

        try:
            return len(self._uids("UNKEYWORD", PROCESSED_KEYWORD))
        except Exception as exc:
            self.warnings.append(f"could not count unflagged mail: {exc}")
            return None

    def components(self, after_uid: int, drain_s: float) -> dict[str, Any]:
        """The burst fetched and parsed again in this process, one message after another: what
        IMAP and MIME parsing cost alone (the worker also does both, per message)."""
        from tempodesk.mail import MailRejected, parse
        from tempodesk.mail.imap import ImapMailbox

        fetch: list[float] = []
        parsing: list[float] = []
        with ImapMailbox(
            self.dovecot.host,
            self.dovecot.port,
            "none",
            MAILBOX_USER,
            MAILBOX_PASSWORD,
        ) as imap:
            uids = imap.uids_after(after_uid, limit=self.args.messages)
            for uid in uids:
                started = time.perf_counter()
                imap.size(uid)
                raw = imap.fetch(uid)
                fetched = time.perf_counter()
                with contextlib.suppress(MailRejected):
                    parse(raw)
                fetch.append(fetched - started)
                parsing.append(time.perf_counter() - fetched)
        return {
            "about": "the burst fetched again (RFC822.SIZE then BODY.PEEK[], one connection) and "
            "parsed (tempodesk.mail.parse) in the benchmark process, one message at a time; "
            "share_of_drain is the sum over the burst divided by the drain time",
            "imap_size_and_fetch": {
                **distribution(fetch),
                "total_s": round(sum(fetch), 2),
                "share_of_drain": round(sum(fetch) / drain_s, 3) if drain_s else None,
            },
            "parse": {
                **distribution(parsing),
                "total_s": round(sum(parsing), 2),
                "share_of_drain": round(sum(parsing) / drain_s, 3) if drain_s else None,
            },
        }

    # -- the whole run

    def run(self) -> dict[str, Any]:
        args = self.args
        self.save_mailbox()
        warm = self.warm_up()
        after_id = self._max_inbound_id()
        burst = plan_burst(args, self.run_id, warm)
        description = burst.counts()
        after_uid = max(self._uids(), default=0)
        description.update(self.append(burst))
        baseline = self.baseline()
        api = self.api_intake()

        watcher, started, observed, drain = self.drain(burst, after_id)
        try:
            drain["mailbox_workflow"] = self.stop_polling()
        except Exception as exc:
            self.warnings.append(f"could not stop the mailbox workflow: {exc!r}")
        integrity = self.integrity(burst, watcher, after_id)
        intake = self.figures(burst, watcher, started, observed, drain)
        intake.update(integrity)
        intake["acknowledgements"] = self.acknowledgements(burst, started)
        components = self.components(after_uid, intake["drain_s"] or 0.0)
        ratios = self.ratios(intake, baseline, api)
        return {
            "burst": description,
            "intake": intake,
            "components": components,
            "baseline": {BASELINE: baseline},
            "api_intake": api,
            "ratios": ratios,
            "warnings": self.warnings + _interference(drain["cpu"], observed),
            "errors": self.errors,
        }

    def figures(
        self,
        burst: Burst,
        watcher: Watcher,
        started: float,
        observed: float,
        drain: dict[str, Any],
    ) -> dict[str, Any]:
        from activities.mailbox import BATCH

        rows = sorted(watcher.rows.values(), key=lambda r: (r.uid or 0, r.id))
        attached = {p.message_id for p in burst.messages if p.attachment}
        latencies = [
            visible - started for r in rows if (visible := watcher.visible_at(r)) is not None
        ]
        last = max(latencies, default=None)
        n = len(burst.messages)
        outcomes = Counter(r.status for r in rows)
        # Where a message's time goes, from the worker's own timestamps: between the previous
        # message's outcome and this one's row (flag + record the previous, SIZE + FETCH +
        # parse + store this one) and from its row to its outcome (routing: intake and the
        # Temporal round trip for a ticket, a signal for a follow-up).
        gaps_inside: list[float] = []
        gaps_boundary: list[float] = []
        big: list[float] = []
        small: list[float] = []
        routes: dict[str, list[float]] = {o: [] for o in OUTCOMES}
        for position, row in enumerate(rows):
            routes.setdefault(row.status, []).append(row.processed - row.received)
            if position == 0:
                continue
            gap = row.received - rows[position - 1].processed
            (gaps_boundary if position % BATCH == 0 else gaps_inside).append(gap)
            (big if row.rfc in attached else small).append(gap)
        attach_lag = [
            seen - r.processed
            for r in rows
            if r.status == "follow_up"
            and r.message is not None
            and (seen := watcher.attached_seen.get(r.message)) is not None
        ]
        cpu = drain["cpu"]
        worker_pid = self.stack.pids.get("worker")
        rss_now = rss_kb(worker_pid) if worker_pid else {}
        figures: dict[str, Any] = {
            "messages": n,
            "processed": len(rows),
            "throughput_per_s": round(n / last, 2) if last and len(rows) == n else None,
            "messages_per_min": round(60 * n / last, 1) if last and len(rows) == n else None,
            "drain_s": round(last, 2) if last is not None else None,
            "drain_observed_s": round(observed, 2),
            "first_message_stored_s": round(rows[0].received - started, 3) if rows else None,
            "latency_arrival_to_visible": distribution(latencies),
            "outcomes": {o: outcomes.get(o, 0) for o in OUTCOMES},
            "steps": {
                "about": "worker timestamps: between = previous outcome to this row stored "
                "(flag and record the previous message; SIZE, FETCH, parse, store this one; "
                "negative when messages are routed side by side); "
                "at_batch_boundary = the same across polls (activity done, next scheduled, "
                "IMAP login, SELECT, SEARCH); route = row stored to outcome recorded; "
                "follow_up_attach_lag = outcome to attached on the timeline (watcher, "
                f"{WATCH_INTERVAL:.1f} s resolution)",
                "between_messages": distribution(gaps_inside),
                "between_messages_with_attachment": distribution(big),
                "between_messages_without_attachment": distribution(small),
                "at_batch_boundary": distribution(gaps_boundary),
                "route_ticket": distribution(routes["ticket"]),
                "route_follow_up": distribution(routes["follow_up"]),
                "follow_up_attach_lag": distribution(attach_lag),
            },
            "worker_rss_mb": {
                "before_drain": _mb(drain["rss_before_kb"].get("VmRSS")),
                "peak_during_drain": _mb(watcher.rss_peak_kb),
                "after_drain": _mb(rss_now.get("VmRSS")),
                "peak_since_start": _mb(rss_now.get("VmHWM")),
            },
            "cpu": cpu,
        }
        if rows:
            figures["cpu_ms_per_message_stack"] = stack_cpu_ms(cpu, n)
            figures["cpu_ms_per_message"] = {
                name.removesuffix("_s"): round(1000 * seconds / n, 1)
                for name, seconds in cpu.items()
                if name.endswith("_s")
            }
        from tempodesk.core.models import InboundMessage

        refused = [r.id for r in rows if r.status in ("ignored", "quarantined")]
        with self.sessions() as session:
            reasons = dict(
                session.execute(
                    select(InboundMessage.id, InboundMessage.reason).where(
                        InboundMessage.id.in_(refused)
                    )
                ).all()
            )
        figures["errors_by_type"] = {
            "worker_log": drain["worker_log_problems"],
            "reasons": dict(
                Counter(
                    f"{r.status}: {(reasons.get(r.id) or '').split(':')[0]}"
                    for r in rows
                    if r.status in ("ignored", "quarantined")
                ).most_common(10)
            ),
        }
        if "mailbox_workflow" in drain:
            figures["mailbox_workflow"] = drain["mailbox_workflow"]
        log.info(
            "intake: %d messages in %.1f s = %.1f/s; p50 %.1f s, p95 %.1f s, max %.1f s",
            len(rows),
            last or 0,
            figures["throughput_per_s"] or 0,
            (figures["latency_arrival_to_visible"]["p50_ms"] or 0) / 1000,
            (figures["latency_arrival_to_visible"]["p95_ms"] or 0) / 1000,
            (figures["latency_arrival_to_visible"]["max_ms"] or 0) / 1000,
        )
        return figures

    def ratios(
        self,
        intake: dict[str, Any],
        baseline: dict[str, dict[str, Any]],
        api: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        ours = intake.get("throughput_per_s")
        result: dict[str, Any] = {
            "about": "Tempodesk mail-intake throughput / bare-engine update-with-start "
            "throughput, per baseline concurrency level; the first level is the reference. "
            "round_trip_share: the baseline's p50 at 1 client over Tempodesk's time per "
            "message, i.e. how much of a message's time one bare Temporal round trip explains. "
            "mail_over_api: mail-intake throughput / API-intake throughput in the same run (the "
            "aim is >= 0.8); cpu_mail_over_api: CPU per message / CPU per API ticket, all "
            "server processes (stack_cpu_ms: worker, Temporal, PostgreSQL, Dovecot and the "
            "benchmark process, which serves the web and runs the clients or the watcher).",
            "reference": str(self.args.baseline_clients[0]),
            "throughput": {},
        }
        for level, theirs in baseline.items():
            rate = theirs.get("throughput_per_s")
            result["throughput"][level] = round(ours / rate, 3) if ours and rate else None
        theirs_api = (api or {}).get("throughput_per_s")
        result["mail_over_api"] = round(ours / theirs_api, 3) if ours and theirs_api else None
        mail_cpu = intake.get("cpu_ms_per_message_stack")
        api_cpu = (api or {}).get("cpu_ms_per_ticket_stack")
        result["cpu_mail_over_api"] = round(mail_cpu / api_cpu, 3) if mail_cpu and api_cpu else None
        sequential = baseline.get("1", {}).get("p50_ms")
        if ours and sequential:
            result["round_trip_share"] = round(sequential / (1000 / ours), 3)
        return result


def stack_cpu_ms(cpu: dict[str, float], count: int) -> float:
    """Milliseconds of CPU per item over every part of the stack measured (not the baseline
    worker, not other processes)."""
    parts = ("other_processes_s", "baseline_worker_s")
    spent = sum(v for k, v in cpu.items() if k.endswith("_s") and k not in parts)
    return round(1000 * spent / max(count, 1), 1)


def _mb(kb: int | None) -> float | None:
    return round(kb / 1024, 1) if kb else None


# ---------------------------------------------------------------------------- the report


def config(args: argparse.Namespace) -> dict[str, Any]:
    from activities.mailbox import BATCH, ROUTERS

    return {
        "quick": args.quick,
        "messages": args.messages,
        "replies_share": args.replies_share,
        "replies_to_acknowledgement_share": ACK_REPLY_SHARE,
        "returning_customers_share": RETURNING_SHARE,
        "html_share": HTML_SHARE,
        "attachments_share": args.attachments_share,
        "attachment_bytes": list(args.attachment_bytes),
        "database": args.database,
        "baseline_clients": args.baseline_clients,
        "api_clients": args.api_clients,
        "api_tickets": args.api_tickets,
        "warmup_tickets": args.warmup,
        "poll_seconds": POLL_SECONDS,
        "batch": BATCH,
        "routing_threads": ROUTERS,
        "seed": args.seed,
        "temporal_dynamic_config": args.temporal_config,
    }


def setup_description(args: argparse.Namespace) -> dict[str, str]:
    return {
        "temporal": "fresh `temporal server start-dev` (TemporalDevServer), persistence on a "
        "SQLite file in WAL mode with synchronous=normal, headless, "
        + (
            "dynamic config " + ", ".join(args.temporal_config)
            if args.temporal_config
            else "default dynamic config"
        ),
        "database": (
            "throwaway PostgreSQL database on 127.0.0.1:5432, migrated and seeded with the demo"
            if args.database == "postgresql"
            else "throwaway SQLite file (WAL), migrated and seeded with the demo"
        ),
        "worker": "`python -m tempodesk.app.cli worker` as its own process (TEMPODESK_* env); the "
        "baseline worker as another (`python -m benchmarks.baseline_worker`)",
        "imap": "private Dovecot 2.3 (tests/dovecot.py) on loopback, plain IMAP, maildir with "
        "mail_fsync=never; one mailbox (poll_seconds 10, import_existing) read by the "
        "MailboxWorkflow's poll activity in batches of 50",
        "smtp": "tempodesk.mail.sink (aiosmtpd) in the benchmark process catches the "
        "acknowledgements",
        "drain": "all mail APPENDed first; timing starts at TemporalFacade.ensure_mailbox; a "
        f"watcher polls the database every {WATCH_INTERVAL:.1f} s",
        "baseline_clients": "asyncio tasks sharing one temporalio Client in the benchmark "
        "process, closed loop, as many calls as the burst has messages",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = prepare_process("mail.log")
    document: dict[str, Any] = {
        "benchmark": "tempodesk-mail-intake",
        "ok": False,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": config(args),
        "setup": setup_description(args),
        "warnings": [],
    }

    def body(cleanup: contextlib.ExitStack[Any], errors: list[str]) -> None:
        stack = build_stack(
            StackOptions(
                database=args.database,
                worker="process",
                web="thread",  # the mail path does not go through the web
                keep_tmp=args.keep_tmp,
                temporal_config=args.temporal_config,
            ),
            cleanup,
        )
        document["machine"]["database_server"] = stack.versions.get("database_server")
        results = MailBench(args, stack, cleanup).run()
        errors.extend(results.pop("errors"))
        document.update(results)  # its "warnings" too

    return run_reported(document, started, body)


if __name__ == "__main__":
    sys.exit(main())
