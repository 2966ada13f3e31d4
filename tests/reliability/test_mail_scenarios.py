"""Mail scenarios of RELIABILITY.md, each ending with the ledger: a burst (R6), size and shape
bombs (R7), an autoresponder loop (R8) and the independent corpus gate (R14).

Mail comes in through the inbound MIME endpoint, the pipeline the IMAP poller shares
(tests/reliability/test_imap_intake.py has the IMAP side). Quick variants run in every test
run; ``TEMPODESK_RELIABILITY=full`` makes them bigger.
"""

from __future__ import annotations

import email
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tempodesk.core.ids import ticket_workflow_id
from tempodesk.core.models import Attachment, InboundMessage, Message
from tests.helpers import Stack, workflow_history
from tests.reliability.ledger import Ledger, assert_clean, full_run
from tests.web.test_inbound_email import SUPPORT, inbound_token, mail, mails_to, post, someone

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TEMPORAL_PAYLOAD_WARNING = 256 * 1024


def accepted(stack: Stack, raw: bytes) -> dict[str, Any]:
    response = post(stack, raw)
    assert response.status_code == 202, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def caught_for(stack: Stack, address: str, mark: int) -> list[Any]:
    return [m for m in list(stack.sink.caught)[mark:] if address in m.recipients]


def test_a_burst_of_new_mail_replies_and_attachments_is_filed_once_in_order(
    stack: Stack, sink: Any
) -> None:
    """R6: 70 % new tickets, 20 % replies (In-Reply-To), 10 % with a 1 MB attachment, sent
    by four clients at once; one acknowledgement per new ticket."""
    ledger = Ledger(stack, "R6", "burst")
    size = 300 if full_run() else 30
    firsts: list[tuple[str, str, bytes]] = []  # sender, Message-ID, raw
    for n in range(size * 8 // 10):
        sender, token, msgid = someone(), ledger.token(), make_msgid(domain="burst.example")
        attachment = ("big.pdf", b"%PDF" + bytes(1024 * 1024)) if n % 8 == 0 else None
        raw = mail(sender, f"Burst {token}", f"{token}\n", message_id=msgid, attachment=attachment)
        firsts.append((sender, msgid, raw))
    inbound_token(stack)  # made once, before four threads ask for it
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        latencies = list(pool.map(lambda f: timed(stack, f[2]), firsts))
    replies = []
    for sender, msgid, _raw in firsts[: size * 2 // 10]:
        token = ledger.token()
        replies.append(mail(sender, "Re: burst", f"{token}\n", headers={"In-Reply-To": msgid}))
    with ThreadPoolExecutor(4) as pool:
        latencies += list(pool.map(lambda raw: timed(stack, raw), replies))
    ledger.measured["drain_time"] = time.monotonic() - started
    ledger.measured["worst_latency"] = max(latencies)
    assert_clean(ledger, settle=60)
    senders = {sender for sender, _id, _raw in firsts}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        acknowledged = [m for m in list(sink.caught) if set(m.recipients) & senders]
        if len(acknowledged) >= len(senders):
            break
        time.sleep(0.2)
    assert len(acknowledged) == len(senders)  # one each (duplicates: the ledger's count)


def timed(stack: Stack, raw: bytes) -> float:
    begun = time.monotonic()
    accepted(stack, raw)
    return time.monotonic() - begun


def nested(depth: int) -> bytes:
    inner = b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        inner = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--'
            + boundary + b"\r\n" + inner + b"\r\n--" + boundary + b"--\r\n"
        )  # fmt: skip
    return inner


def test_size_and_shape_bombs_end_as_tickets_or_reasoned_quarantine_quickly(
    stack: Stack,
) -> None:
    """R7: a large attachment kept byte-exact and never inside a Temporal payload; 50
    attachments; a 200 KB header; 1,000 nested multiparts; each under 5 s."""
    ledger = Ledger(stack, "R7", "bombs")
    # 2 MB; full: 18 MB, the largest that stays under the mailbox's 25 MB once in base64.
    big = bytes(range(256)) * (4 * 1024 * (18 if full_run() else 2))
    token = ledger.token()
    large = mail(someone(), f"Large {token}", f"{token}\n", attachment=("scan.pdf", big))
    many = EmailMessage()
    many["From"], many["To"], many["Subject"] = someone(), SUPPORT, f"Many {ledger.token()}"
    many["Message-ID"] = make_msgid(domain="bomb.example")
    many.set_content(f"{ledger.tokens[-1]}\n")
    for n in range(50):
        many.add_attachment(bytes(20_000), maintype="application", subtype="pdf", filename=f"{n}")
    header = mail(
        someone(), f"Header {ledger.token()}", headers={"X-Long": "a" * 200_000}
    )  # the token in the subject: a quarantine record with it counts as accounted for
    head = f"From: {someone()}\r\nTo: {SUPPORT}\r\nSubject: Deep {ledger.token()}\r\n"
    deep = head.encode() + b"MIME-Version: 1.0\r\n" + nested(1000)
    timings = {}
    for name, raw in (("large", large), ("many", many.as_bytes()), ("header", header)):
        begun = time.monotonic()
        result = accepted(stack, raw)
        timings[name] = time.monotonic() - begun
        assert result["outcome"] in ("ticket", "quarantined"), result
    begun = time.monotonic()
    assert accepted(stack, deep)["outcome"] in ("ticket", "quarantined")
    timings["deep"] = time.monotonic() - begun
    assert max(timings.values()) < 5, timings
    ledger.measured["worst_latency"] = max(timings.values())
    with stack.sessions() as session:
        stored = session.scalar(
            select(Attachment)
            .join(Message)
            .where(Message.body.like(f"%{token}%"), Attachment.filename == "scan.pdf")
        )
        assert stored is not None and stored.sha256 == hashlib.sha256(big).hexdigest()
        number = stored.message.ticket_number
    # No history event (so no payload in it) comes near Temporal's 256 KB warning.
    history = workflow_history(stack.settings, ticket_workflow_id(number))
    largest = max(event.ByteSize() for event in history)
    ledger.measured["notes"] = f"largest history event {largest} bytes"
    assert largest < TEMPORAL_PAYLOAD_WARNING
    assert_clean(ledger)


def test_an_autoresponder_loop_dies_by_itself(stack: Stack, sink: Any) -> None:
    """R8: a responder answers everything we send, (a) marked Auto-Submitted, (b) unmarked
    "Out of office", (c) X-Autoreply, (g) a mailing list, (e) another helpdesk opening a new
    ticket each time: at most one acknowledgement each, never a ticket per round."""
    ledger = Ledger(stack, "R8", "autoresponders")
    variants: dict[str, dict[str, str]] = {
        "a": {"Auto-Submitted": "auto-replied"},
        "b": {},
        "c": {"X-Autoreply": "yes"},
        "g": {"List-Id": "<loop.list.example>", "Precedence": "list"},
        "e": {},
    }
    rounds = 20 if full_run() else 2
    tickets: dict[str, set[str]] = {}
    responders: dict[str, str] = {}
    mark = len(sink.caught)
    for name in variants:
        responders[name] = someone()
        first = accepted(stack, mail(responders[name], f"Hello {ledger.token()}", "Hi\n"))
        tickets[name] = {first["ticket"]}
    for name in variants:  # every responder has our acknowledgement before the loop starts
        mails_to(sink, responders[name], 1)
    answered = {name: 0 for name in variants}  # how many of our mails each has answered
    for n in range(rounds):
        for name, headers in variants.items():
            ours = caught_for(stack, responders[name], mark)
            if len(ours) == answered[name]:
                continue  # nothing new from us: an autoresponder answers only new mail
            answered[name] = len(ours)
            last = ours[-1]
            subject = f"Ticket {n} received" if name == "e" else f"Out of office: {last.subject}"
            reply_headers = dict(headers)
            if name != "e":
                reply_headers["In-Reply-To"] = last.message_id
            result = accepted(
                stack, mail(responders[name], subject, "Away.\n", headers=reply_headers)
            )
            if result.get("ticket"):
                tickets[name].add(result["ticket"])
        time.sleep(0.5)
    time.sleep(0.5)
    sent_to = {name: len(caught_for(stack, who, mark)) for name, who in responders.items()}
    ledger.measured["notes"] = f"mails sent per responder {sent_to}"
    assert all(count <= 1 for count in sent_to.values()), sent_to
    assert all(len(found) <= 10 for found in tickets.values()), tickets
    for found in tickets.values():
        ledger.tickets |= found
    assert_clean(ledger)


def test_every_corpus_file_ends_as_one_ticket_message_or_quarantine(stack: Stack) -> None:
    """R14: the independent corpus through the real intake path (quick: every eighth file):
    one final outcome each, raw bytes kept exactly, under 5 s per file."""
    ledger = Ledger(stack, "R14", "corpus")
    files = sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.parent != CORPUS and "LICENSES" not in p.parts
    )
    chosen = files if full_run() else files[::8]
    outcomes: dict[str, int] = {}
    slowest = 0.0
    for path in chosen:
        raw = path.read_bytes()
        begun = time.monotonic()
        response = post(stack, raw)
        slowest = max(slowest, time.monotonic() - begun)
        assert response.status_code in (202, 413), (path.name, response.get_json())
        result = response.get_json()
        outcome = result.get("outcome", "refused")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if result.get("ticket"):
            ledger.ticket(result["ticket"])
        with stack.sessions() as session:
            rows = list(
                session.scalars(
                    select(InboundMessage).where(
                        InboundMessage.sha256 == hashlib.sha256(raw).hexdigest()
                    )
                )
            )
        if not rows:  # the same Message-ID and sender as a file before it: deduplicated
            assert kept_before(stack, raw), path.name
            outcomes["duplicate"] = outcomes.get("duplicate", 0) + 1
            continue
        assert len(rows) == 1 and rows[0].raw == raw, path.name
        assert rows[0].status in ("ticket", "follow_up", "ignored", "quarantined"), path.name
        assert rows[0].status != "quarantined" or rows[0].reason, path.name
    assert slowest < 5
    ledger.measured["worst_latency"] = slowest
    ledger.measured["notes"] = f"{len(chosen)} files: {outcomes}"
    assert_clean(ledger, settle=30)


def kept_before(stack: Stack, raw: bytes) -> bool:
    found = email.message_from_bytes(raw).get("Message-ID", "").strip().strip("<>")
    with stack.sessions() as session:
        earlier = session.scalars(
            select(InboundMessage.id).where(InboundMessage.rfc_message_id.like(f"%{found}%"))
        ).first()
    return bool(found) and earlier is not None
