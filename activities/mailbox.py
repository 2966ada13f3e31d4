"""The IMAP side of a mailbox: fetch by UID, hand to intake, and only then flag on the server.

Rule 1 of RELIABILITY.md: nothing is flagged or moved before its raw bytes are stored and its
ticket start (or signal) was accepted. A crash anywhere in between leaves the message
unflagged and ``last_uid`` behind it, so the next poll fetches it again; intake's dedupe key
turns that second pass into a no-op that returns the first outcome. We never select mail by
"unread": a person reading the mailbox must not hide mail from us.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from tempodesk.contracts import ACT_POLL_MAILBOX, MailboxPollInput, MailboxPollResult
from tempodesk.core import failpoints
from tempodesk.core.db import transaction
from tempodesk.core.models import Mailbox, utcnow
from tempodesk.core.settings import Settings
from tempodesk.core.vault import SecretUnreadable
from tempodesk.mail import mailboxes
from tempodesk.mail.imap import ImapError, ImapMailbox, ImapMessageMissing, ImapShortRead

if TYPE_CHECKING:
    from tempodesk.mail.inbound import InboundService

log = logging.getLogger(__name__)

BATCH = 50
HARD_LIMIT = 150 * 1024 * 1024  # never download more than this; it is quarantined unread


class MailboxActivities:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        inbound: Callable[[], InboundService],
    ):
        self.settings = settings
        self.sessions = sessions
        self._inbound = inbound

    @activity.defn(name=ACT_POLL_MAILBOX)
    def poll_mailbox(self, input: MailboxPollInput) -> MailboxPollResult:
        """Fetch up to one batch of new mail and route every message."""
        with self.sessions() as session:
            box = mailboxes.row(session, input.mailbox)
            if box is None or not box.enabled or not box.imap_host:
                return MailboxPollResult(stopped=True)
            session.expunge(box)
        try:
            password = mailboxes.imap_password(box, self.settings)
            fetched, more = self._poll(input.mailbox, box, password)
        except (ImapError, SecretUnreadable) as exc:
            # An outage or bad credentials: shown to admins, retried at the next poll (no
            # retry storm against a server that refuses us).
            log.warning("mailbox %s: %s", input.mailbox, exc)
            self._record(box.id, last_error=str(exc))
            return MailboxPollResult(next_poll_seconds=box.poll_seconds, error=str(exc))
        self._record(box.id, last_error="")
        return MailboxPollResult(fetched=fetched, more=more, next_poll_seconds=box.poll_seconds)

    def _poll(self, name: str, box: Mailbox, password: str) -> tuple[int, bool]:
        inbound = self._inbound()
        with ImapMailbox(
            box.imap_host,
            box.imap_port,
            box.imap_security,
            box.imap_username,
            password,
            folder=box.folder,
            verify=box.imap_verify,
        ) as imap:
            validity = imap.uidvalidity
            last = box.last_uid
            if box.uidvalidity != validity:
                if box.uidvalidity is None and not box.import_existing:
                    # First contact with a mailbox full of old mail: import only what arrives
                    # from now on, unless the admin asked for the backlog.
                    last = imap.uidnext - 1
                else:
                    last = 0  # UIDVALIDITY changed: every message again; dedupe keeps one each
                self._record(box.id, uidvalidity=validity, last_uid=last)
            uids = imap.uids_after(last, limit=BATCH)
            for uid in uids:
                _heartbeat(uid)
                try:
                    raw = self._download(imap, box, uid)
                except ImapMessageMissing:
                    # Deleted by someone else since the search: nothing to store.
                    self._record(box.id, last_uid=uid)
                    continue
                inbound.receive(name, raw, source="imap", uid=uid, uidvalidity=validity)
                failpoints.hit("imap_after_store")
                imap.mark_processed(uid, move_to=box.processed_folder or None)
                self._record(box.id, last_uid=uid)
            return len(uids), len(uids) == BATCH

    @staticmethod
    def _download(imap: ImapMailbox, box: Mailbox, uid: int) -> bytes:
        """The raw message; a stand-in that intake quarantines when it cannot be had whole, so
        one poisoned message never blocks the mailbox (RELIABILITY rule 7)."""
        size = imap.size(uid)
        if size > HARD_LIMIT:
            return _placeholder(box.folder, uid, f"{size} bytes, over the hard limit")
        try:
            return imap.fetch(uid)
        except ImapShortRead:
            try:
                return imap.fetch(uid)  # once more: a dropped connection mid-body
            except ImapShortRead as again:
                return _placeholder(box.folder, uid, f"the server sent it incomplete: {again}")

    def poll_once(self, name: str) -> MailboxPollResult:
        """The same poll outside Temporal (`tempodesk mailbox poll`), for admins and tests."""
        return self.poll_mailbox(MailboxPollInput(name))

    def _record(self, box_id: int, **values: object) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                update(Mailbox).where(Mailbox.id == box_id).values(last_poll_at=utcnow(), **values)
            )


def _heartbeat(detail: object) -> None:
    if activity.in_activity():
        activity.heartbeat(detail)


def _placeholder(folder: str, uid: int, reason: str) -> bytes:
    """Headers only, no sender: intake quarantines it with this reason, the raw mail stays
    on the server for an admin."""
    return (
        f"X-Tempodesk-Not-Downloaded: {folder} uid {uid}: {reason}\r\n"
        "Subject: (not downloaded)\r\n\r\n"
    ).encode()
