"""The IMAP side of a mailbox: fetch by UID and route, then (once routed mail was delivered
to its tickets) flag it on the server.

Rule 1 of RELIABILITY.md: nothing is flagged or moved before its raw bytes are stored and
its ticket start (or message) was delivered. ``fetch_mail`` stores and routes a batch and
returns the routes; the mailbox workflow delivers them (starts and signals ticket
workflows); ``ack_mail`` flags the batch and moves ``last_uid`` past it. A crash anywhere in
between leaves the mail unflagged and ``last_uid`` behind it, so the next poll fetches it
again; the dedupe key turns that second pass into the first outcome and the same route, and
delivering a route twice is harmless. We never select mail by "unread": a person reading the
mailbox must not hide mail from us.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from tempodesk.contracts import (
    ACT_ACK_MAIL,
    ACT_FETCH_MAIL,
    ACT_REDIRECT,
    ACT_RESTART,
    MailboxAckInput,
    MailboxPollInput,
    MailboxPollResult,
    MailRoute,
    RedirectResult,
    RestartInput,
    RestartResult,
)
from tempodesk.core import failpoints
from tempodesk.core.db import transaction
from tempodesk.core.models import Mailbox, utcnow
from tempodesk.core.settings import Settings
from tempodesk.core.vault import SecretUnreadable
from tempodesk.mail import mailboxes
from tempodesk.mail.imap import ImapError, ImapMailbox, ImapMessageMissing, ImapShortRead
from tempodesk.mail.inbound import InboundService

log = logging.getLogger(__name__)

BATCH = 50
HARD_LIMIT = 150 * 1024 * 1024  # never download more than this; it is quarantined unread


@dataclass
class _Batch:
    """What one fetch read: routes in arrival order, the UIDs to flag, how far it got."""

    uidvalidity: int = 0
    routes: list[MailRoute] = field(default_factory=list)
    processes: dict[str, str] = field(default_factory=dict)
    uids: list[int] = field(default_factory=list)
    last_uid: int = 0
    read: int = 0
    error: str = ""


class MailboxActivities:
    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], inbound: InboundService
    ):
        self.settings = settings
        self.sessions = sessions
        self.inbound = inbound

    @activity.defn(name=ACT_FETCH_MAIL)
    def fetch_mail(self, input: MailboxPollInput) -> MailboxPollResult:
        """Fetch up to one batch of new mail, store and route every message; flag nothing."""
        box = self._box(input.mailbox)
        if box is None:
            return MailboxPollResult(stopped=True)
        batch = _Batch()
        try:
            password = mailboxes.imap_password(box, self.settings)
            self._fetch(input.mailbox, box, password, batch)
        except (ImapError, SecretUnreadable) as exc:
            # An outage or bad credentials: shown to admins, retried at the next poll (no retry
            # storm against a server that refuses us). What was routed before it is kept.
            log.warning("mailbox %s: %s", input.mailbox, exc)
            batch.error = str(exc)
        self._record(box.id, last_error=batch.error)
        failpoints.hit("imap_after_store")
        return MailboxPollResult(
            fetched=batch.read,
            more=batch.read == BATCH and not batch.error,
            next_poll_seconds=box.poll_seconds,
            error=batch.error,
            routes=batch.routes,
            processes=batch.processes,
            uidvalidity=batch.uidvalidity,
            uids=batch.uids,
            last_uid=batch.last_uid,
        )

    @activity.defn(name=ACT_ACK_MAIL)
    def ack_mail(self, input: MailboxAckInput) -> None:
        """Flag (or move) mail whose routes were delivered; remember how far we read. Mail of
        another UIDVALIDITY than the server's now is left alone (its UIDs mean nothing)."""
        box = self._box(input.mailbox)
        if box is None:
            return
        try:
            password = mailboxes.imap_password(box, self.settings)
            with _connect(box, password) as imap:
                if imap.uidvalidity != input.uidvalidity:
                    return
                for uid in input.uids:
                    _heartbeat(uid)
                    try:
                        imap.mark_processed(uid, move_to=box.processed_folder or None)
                    except ImapMessageMissing:
                        continue  # deleted by someone else meanwhile: nothing to flag
        except (ImapError, SecretUnreadable) as exc:
            log.warning("mailbox %s: flagging failed: %s", input.mailbox, exc)
            self._record(box.id, last_error=str(exc))
            return  # the next poll finds the same mail and routes it to the same place
        if input.last_uid:
            self._record(box.id, last_uid=input.last_uid)

    @activity.defn(name=ACT_REDIRECT)
    def redirect(self, input: RestartInput) -> RedirectResult:
        """A reply to a closed ticket, made a new ticket as its mailbox's policy says."""
        route = self.inbound.redirect(input.number, input.message_id)
        return RedirectResult(route.number, route.start) if route else RedirectResult()

    @activity.defn(name=ACT_RESTART)
    def restart(self, input: RestartInput) -> RestartResult:
        """A closed ticket's new run for a message its ended workflow cannot take (or None)."""
        return RestartResult(self.inbound.restart(input.number, input.message_id))

    def poll_once(self, name: str) -> MailboxPollResult:
        """One poll outside Temporal (`tempodesk mailbox poll`, tests): fetch and route,
        deliver the routes through the inbound service's facade, then flag."""
        result = self.fetch_mail(MailboxPollInput(name))
        for route in result.routes:
            self.inbound.deliver_now(route.documented(result.processes))
        if result.uids or result.last_uid:
            self.ack_mail(MailboxAckInput(name, result.uidvalidity, result.uids, result.last_uid))
        return result

    def _box(self, name: str) -> Mailbox | None:
        with self.sessions() as session:
            box = mailboxes.row(session, name)
            if box is None or not box.enabled or not box.imap_host:
                return None
            session.expunge(box)
            return box

    def _fetch(self, name: str, box: Mailbox, password: str, batch: _Batch) -> None:
        with _connect(box, password) as imap:
            batch.uidvalidity = imap.uidvalidity
            last = self._start_after(imap, box)
            for uid in imap.uids_after(last, limit=BATCH):
                _heartbeat(uid)
                batch.read += 1
                try:
                    raw = _download(imap, box, uid)
                except ImapMessageMissing:
                    batch.last_uid = uid  # deleted by someone else since the search
                    continue
                routed = self.inbound.take(
                    name, raw, source="imap", uid=uid, uidvalidity=batch.uidvalidity
                )
                if routed.route is not None:
                    route = replace(routed.route, uid=uid).slimmed(batch.processes)
                    batch.routes.append(route)
                batch.uids.append(uid)
                # Only now: a message that failed to download or store is read again.
                batch.last_uid = uid

    def _start_after(self, imap: ImapMailbox, box: Mailbox) -> int:
        """The UID to read after: the last one flagged, unless UIDVALIDITY changed."""
        validity = imap.uidvalidity
        if box.uidvalidity == validity:
            return box.last_uid
        # First contact with a mailbox full of old mail: import only what arrives from now on,
        # unless the admin asked for the backlog. UIDVALIDITY changed: every message again
        # (dedupe keeps one of each).
        first_contact = box.uidvalidity is None and not box.import_existing
        last = imap.uidnext - 1 if first_contact else 0
        self._record(box.id, uidvalidity=validity, last_uid=last)
        return last

    def _record(self, box_id: int, **values: object) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                update(Mailbox).where(Mailbox.id == box_id).values(last_poll_at=utcnow(), **values)
            )


def _connect(box: Mailbox, password: str) -> ImapMailbox:
    return ImapMailbox(
        box.imap_host,
        box.imap_port,
        box.imap_security,
        box.imap_username,
        password,
        folder=box.folder,
        verify=box.imap_verify,
    )


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
