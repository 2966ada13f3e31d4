"""Conversations within a batch of mail: what must be routed in arrival order.

A poll routes the mail of one mailbox side by side (``activities/mailbox.py``), except mail
of one conversation, which is routed one after another in arrival order: a reply must find
the ticket its thread's first mail made (or is making), and two mails of one customer must
not race to create that customer's contact or ticket. Two mails are of one conversation
when they share a **key**: the sender's base address (From, Reply-To or Sender, as the
router's ``identify_sender`` may pick any of them), or any Message-ID either one names
(its own, In-Reply-To, References). Keys chain: a reply that names its thread's first mail
waits for it, and a third mail naming the reply waits for both.

Keys come from the header block alone, read leniently: a mail whose headers cannot be read
gets no key and is routed on its own (the pipeline quarantines it with the reason anyway).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, wait
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from typing import TypeVar

from tempodesk.people.addresses import base_address, normalize_email

# Enough for any sane header block; a longer one is cut (it keys by what it has).
HEADER_BYTES = 64 * 1024
_ADDRESS_HEADERS = ("From", "Reply-To", "Sender")
_ID_HEADERS = ("Message-ID", "In-Reply-To", "References")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")

T = TypeVar("T")


def conversation_keys(raw: bytes) -> frozenset[str]:
    """The keys that tie this mail to others of its conversation (may be empty)."""
    head = raw[:HEADER_BYTES]
    end = _END_OF_HEADERS.search(head)
    if end is not None:
        head = head[: end.start()]
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head)
        keys: set[str] = set()
        for name in _ADDRESS_HEADERS:
            for _, address in getaddresses([str(v) for v in headers.get_all(name, [])]):
                if "@" in address:
                    keys.add("from:" + base_address(normalize_email(address)))
        for name in _ID_HEADERS:
            for value in headers.get_all(name, []):
                keys.update("id:" + ident.lower() for ident in _MESSAGE_ID.findall(str(value)))
    except Exception:  # a header no parser reads: routed alone, quarantined by the pipeline
        return frozenset()
    return frozenset(keys)


class ConversationLanes:
    """Runs jobs on an executor side by side, each after every earlier job that shares a key
    with it (arrival order within a conversation). At most ``window`` jobs are submitted and
    unfinished at a time, so a batch of large mail is not all held in memory at once.

    Jobs wait for their predecessors on the executor's threads. That cannot deadlock: a
    predecessor was submitted earlier, so a FIFO executor started it before its waiter.
    """

    def __init__(self, executor: Executor, window: int):
        self.executor = executor
        self.room = threading.BoundedSemaphore(max(window, 1))
        self.last: dict[str, Future[object]] = {}
        self.futures: list[Future[object]] = []

    def submit(self, keys: Iterable[str], job: Callable[[], T]) -> Future[T]:
        """Queue ``job`` behind the unfinished jobs that share one of ``keys``; blocks while
        the window is full."""
        keys = list(keys)
        before = {id(f): f for k in keys if (f := self.last.get(k)) is not None}
        self.room.acquire()

        def run() -> T:
            try:
                wait(before.values())
                return job()
            finally:
                self.room.release()

        future = self.executor.submit(run)
        for key in keys:
            self.last[key] = future  # type: ignore[assignment]
        self.futures.append(future)  # type: ignore[arg-type]
        return future

    def finish(self) -> None:
        """Wait for every job; the first job's error (in submission order) is raised."""
        wait(self.futures)
        for future in self.futures:
            future.result()
