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

import imaplib
import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

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
from tempodesk.core.db import aware, transaction
from tempodesk.core.models import Mailbox, utcnow
from tempodesk.core.settings import Settings
from tempodesk.core.vault import SecretUnreadable
from tempodesk.mail import mailboxes
from tempodesk.mail.conversations import ConversationLanes, conversation_keys
from tempodesk.mail.imap import (
    PROCESSED_KEYWORD,
    ImapError,
    ImapMailbox,
    ImapMessageMissing,
    ImapShortRead,
    ImapUnavailable,
)
from tempodesk.mail.imap_wire import MAX_UID
from tempodesk.mail.inbound import InboundService, MailNotRouted
from tempodesk.mail.mailboxes import MailboxConfig
from tempodesk.mail.routing import Routed

log = logging.getLogger(__name__)

BATCH = 50
# Messages of one batch routed side by side (conversations keep their order): the routing is
# mostly waiting on the database, so a few threads overlap it. Each holds one connection of
# the worker's pool while it routes.
ROUTERS = 4
ROUTING_WINDOW = 2 * ROUTERS  # downloaded and not yet routed, at most (memory)
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
    broken: bool = False  # the server failed us: wait for the next poll before reading on
    tried: set[int] = field(default_factory=set)  # UIDs taken in this batch already
    staged: set[int] = field(default_factory=set)  # inbound rows routed in this batch
    # The mailbox's intake settings, read once for the whole batch (three queries a message
    # before); a change an admin saves meanwhile applies from the next batch.
    config: MailboxConfig | None = None


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
            self._fetch(input, box, password, batch)
        except (ImapError, SecretUnreadable) as exc:
            # An outage or bad credentials: shown to admins, retried at the next poll (no retry
            # storm against a server that refuses us). What was routed before it is kept.
            log.warning("mailbox %s: %s", input.mailbox, exc)
            batch.error, batch.broken = str(exc), True
        self._record(box.id, last_error=batch.error)
        failpoints.hit("imap_after_store")
        return MailboxPollResult(
            fetched=batch.read,
            more=batch.read == BATCH and not batch.broken,
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
            with _connect(box, password, self.settings) as imap:
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

    def _fetch(self, input: MailboxPollInput, box: Mailbox, password: str, batch: _Batch) -> None:
        name, opened = input.mailbox, utcnow()
        with (
            _connect(box, password, self.settings) as imap,
            ThreadPoolExecutor(ROUTERS, thread_name_prefix="route-mail") as pool,
        ):
            lanes = ConversationLanes(pool, window=ROUTING_WINDOW)
            taken: list[tuple[int, Future[Routed | MailNotRouted]]] = []
            try:
                batch.uidvalidity = imap.uidvalidity
                last, rescan_below = self._start_after(imap, box, opened)
                if input.after_uid and input.uidvalidity == imap.uidvalidity == box.uidvalidity:
                    # The batch before is being delivered, not flagged yet: read on after it.
                    last = max(last, input.after_uid)
                self._retry_stored(name, batch, lanes, taken)
                uids, rescanned = _next_uids(imap, box, last, rescan_below)
                for uid in uids:
                    if uid in batch.tried:  # retried from the database just now
                        batch.last_uid = uid
                        continue
                    _heartbeat(uid)
                    batch.read += 1
                    try:
                        raw = _download(imap, box, uid)
                    except ImapMessageMissing:
                        batch.last_uid = uid  # deleted by someone else since the search
                        continue
                    self._take(name, raw, uid, batch, lanes, taken)
                    # Only now: a message that failed to download or store is read again.
                    batch.last_uid = uid
                if rescanned:  # the renumbered past is done: never search it again
                    batch.last_uid = max(batch.last_uid, rescan_below - 1)
            finally:
                # What was routed is kept even when the server failed us midway.
                self._collect(name, taken, batch)

    def _take(
        self,
        name: str,
        raw: bytes,
        uid: int,
        batch: _Batch,
        lanes: ConversationLanes,
        taken: list[tuple[int, Future[Routed | MailNotRouted]]],
    ) -> None:
        """Store one message now (in arrival order: its bytes are durable before the next is
        read), then route it beside the others of the batch, after the earlier ones of its
        conversation (``tempodesk.mail.conversations``)."""
        batch.tried.add(uid)
        if batch.config is None:
            batch.config = self.inbound.config(name)
        staged = self.inbound.stage(
            name, raw, source="imap", uid=uid, uidvalidity=batch.uidvalidity, config=batch.config
        )
        if isinstance(staged, Routed):  # a repeat or a quarantine: nothing to route
            done: Future[Routed | MailNotRouted] = Future()
            done.set_result(staged)
            taken.append((uid, done))
            return

        again = staged.inbound_id in batch.staged  # the same mail twice: one lane (keys)
        batch.staged.add(staged.inbound_id)

        def route() -> Routed | MailNotRouted:
            try:
                return self.inbound.route_staged(staged, again=again)
            except MailNotRouted as exc:
                return exc

        taken.append((uid, lanes.submit(conversation_keys(raw), route)))

    def _collect(
        self, name: str, taken: list[tuple[int, Future[Routed | MailNotRouted]]], batch: _Batch
    ) -> None:
        """The batch's routes and UIDs to flag, in arrival order. One that is stored but not
        routed stays unflagged and is retried from the database (``_retry_stored``); the
        mail behind it goes on. An unexpected error fails the poll (after every message of
        the batch is done: a retry routes them again to the same outcome)."""
        wait([future for _, future in taken])
        for uid, future in taken:
            routed = future.result()
            if isinstance(routed, MailNotRouted):
                log.warning("mailbox %s: UID %s: %s", name, uid, routed)
                batch.error = f"UID {uid} not routed, {routed}"
                continue
            if routed.route is not None:
                batch.routes.append(replace(routed.route, uid=uid).slimmed(batch.processes))
            batch.uids.append(uid)

    def _retry_stored(
        self,
        name: str,
        batch: _Batch,
        lanes: ConversationLanes,
        taken: list[tuple[int, Future[Routed | MailNotRouted]]],
    ) -> None:
        """Mail an earlier poll stored but could not route: routed again from its stored
        bytes (each try counts; the last quarantines it), flagged once it has an outcome.
        If its route cannot be delivered, the workflow acknowledges only up to before its
        UID, so it is read again like any undelivered mail. Mail of a folder renumbered
        since is left to the re-scan, which finds it (unflagged) under its new UID."""
        for inbound_id in self.inbound.unrouted(name, limit=BATCH):
            found = self.inbound.stored(inbound_id)
            if found is not None and found[1] and found[2] == batch.uidvalidity:
                self._take(name, found[0], found[1], batch, lanes, taken)

    def _start_after(self, imap: ImapMailbox, box: Mailbox, opened: datetime) -> tuple[int, int]:
        """The UID to read after (the last one flagged, unless UIDVALIDITY changed), and the
        UID below which the folder is the renumbered past to re-scan (0: none)."""
        validity = imap.uidvalidity
        if box.uidvalidity == validity:
            return box.last_uid, box.rescan_below
        if box.uidvalidity is None:
            # First contact with a mailbox full of old mail: import only what arrives from
            # now on, unless the admin asked for the backlog.
            last = 0 if box.import_existing else imap.uidnext - 1
            self._record(
                box.id, uidvalidity=validity, last_uid=last, first_contact_at=opened, rescan_below=0
            )
            return last, 0
        # UIDVALIDITY changed (a restore, a migration): the same mail under new UIDs. Mail left
        # alone at first contact was never stored, so no dedupe key would catch it: only the
        # mail since first contact without our keyword is read again (``_next_uids``).
        self._record(box.id, uidvalidity=validity, last_uid=0, rescan_below=imap.uidnext)
        return 0, imap.uidnext

    def _record(self, box_id: int, **values: object) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                update(Mailbox).where(Mailbox.id == box_id).values(last_poll_at=utcnow(), **values)
            )


def _next_uids(
    imap: ImapMailbox, box: Mailbox, last: int, rescan_below: int
) -> tuple[list[int], bool]:
    """The UIDs to read next, at most a batch; and whether a re-scan of the renumbered past
    (UIDs below ``rescan_below``) is over with them.

    The past holds only mail that arrived since first contact (all of it with
    ``import_existing``) and carries no processed keyword. SEARCH SINCE counts whole days in
    the server's time zone, so the search starts a day early and each candidate's
    INTERNALDATE is checked to the second."""
    if last + 1 >= rescan_below:
        return imap.uids_after(last, limit=BATCH), False
    since = None if box.import_existing else aware(box.first_contact_at)
    also = f"UNKEYWORD {PROCESSED_KEYWORD}"
    if since is not None:
        day = imaplib.Time2Internaldate(since - timedelta(days=1))[1:12]
        also = f"SINCE {day} {also}"
    found = [uid for uid in imap.uids_after(last, limit=MAX_UID, also=also) if uid < rescan_below]
    past: list[int] = []
    for start in range(0, len(found), 10 * BATCH):  # INTERNALDATE answers are short
        chunk = found[start : start + 10 * BATCH]
        if since is None:
            past += chunk
        else:
            arrived = imap.arrived(chunk)
            cut = since.replace(microsecond=0)
            past += [uid for uid in chunk if uid in arrived and arrived[uid] >= cut]
        if len(past) >= BATCH:
            return past[:BATCH], False
    return past + imap.uids_after(rescan_below - 1, limit=BATCH - len(past)), True


def _connect(box: Mailbox, password: str, settings: Settings) -> ImapMailbox:
    if mailboxes.refused_host(box.imap_host, settings):  # checked at save; DNS may move since
        raise ImapUnavailable(f"IMAP {box.imap_host}: {mailboxes.PRIVATE_HOST}")
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
