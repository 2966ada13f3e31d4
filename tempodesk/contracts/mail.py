"""Mail's payloads: sending, templates, mailbox polls and their routes, restarts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tempodesk.contracts.tickets import CustomerMessageInput, TicketStartInput
from tempodesk.contracts.triggers import OutgoingRule


@dataclass
class SendMailInput:
    ticket_number: str
    event_seq: int
    message_id: int
    to: str
    subject: str
    in_reply_to: str = ""
    outgoing: list[OutgoingRule] = field(default_factory=list)  # outgoing triggers' rules


@dataclass
class SendMailResult:
    status: str  # sent | failed
    smtp_message_id: str
    detail: str = ""


@dataclass
class SendTemplateInput:
    ticket_number: str
    event_seq: int
    template: str
    to_role: str
    effect_index: int = 0
    actor: str = ""
    action_id: str = ""
    action_label: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    message_id: int | None = None
    auto_submitted: str = "auto-generated"  # "auto-replied" for acknowledgements (RFC 3834)
    outgoing: list[OutgoingRule] = field(default_factory=list)  # outgoing triggers' rules


@dataclass
class TemplateDelivery:
    recipient: str
    message_id: int
    status: str  # sent | failed (an SMS also: delivered | unknown)
    smtp_message_id: str = ""  # an SMS: the provider's id
    detail: str = ""
    channel: str = "email"  # email | sms
    ambiguous: bool = False  # an SMS whose answer was lost: it may have gone twice


@dataclass
class SendTemplateResult:
    deliveries: list[TemplateDelivery] = field(default_factory=list)
    skipped: str = ""  # why nobody was sent anything, if so


@dataclass
class Notice:  # one recipient's copy of a template, rendered and stored as a message
    recipient: str
    message_id: int
    channel: str = "email"  # email | sms
    bcc: list[str] = field(default_factory=list)  # outgoing triggers' BCC for this recipient


@dataclass
class PreparedTemplate:
    notices: list[Notice] = field(default_factory=list)
    skipped: str = ""  # why nobody is to be sent anything, if so


@dataclass
class SendNoticeInput:
    template: SendTemplateInput
    notice: Notice


@dataclass
class MailboxPollInput:
    mailbox: str
    # Read after this UID (of this UIDVALIDITY) even if ``last_uid`` is behind it: the mailbox
    # workflow fetches the next batch while the one before is delivered and not yet flagged.
    after_uid: int = 0
    uidvalidity: int = 0
    # The run is on the mailboxes' own task queue (MAILBOX_TASK_QUEUE): runs started before it
    # existed (no such field in their input) continue as new there first.
    own_queue: bool = False


@dataclass
class MailRoute:
    """What one stored mail asks of a ticket: a new ticket to start, or a message for it."""

    number: str
    start: TicketStartInput | None = None  # its process document may be in ``processes``
    message: CustomerMessageInput | None = None
    uid: int = 0  # the IMAP UID of the mail it came from

    def slimmed(self, processes: dict[str, str]) -> MailRoute:
        """This route with its process document moved into ``processes`` (one per batch)."""
        if self.start is None or not self.start.process.document:
            return self
        process = self.start.process
        processes[f"{process.name}:{process.version}"] = process.document
        slim = replace(process, document="")
        return replace(self, start=replace(self.start, process=slim))

    def documented(self, processes: dict[str, str]) -> MailRoute:
        """This route with its process document back from the batch's ``processes``."""
        if self.start is None or self.start.process.document:
            return self
        process = self.start.process
        document = processes[f"{process.name}:{process.version}"]
        return replace(self, start=replace(self.start, process=replace(process, document=document)))


@dataclass
class MailboxPollResult:
    fetched: int = 0
    more: bool = False  # a full batch: poll again at once
    next_poll_seconds: int = 60
    error: str = ""
    stopped: bool = False  # the mailbox was disabled or removed
    # What the mailbox workflow delivers, in arrival order, before the mail is flagged:
    routes: list[MailRoute] = field(default_factory=list)
    # The routes' process documents, once per batch ("name:version" -> the pinned document):
    # 50 new tickets of one process carry it once, not 50 times.
    processes: dict[str, str] = field(default_factory=dict)
    uidvalidity: int = 0
    uids: list[int] = field(default_factory=list)  # stored and routed: flag them afterwards
    last_uid: int = 0  # read up to here (mail deleted meanwhile included); 0: nothing read


@dataclass
class MailboxAckInput:
    """Flag (or move) the mail whose routes were delivered, and remember how far we read."""

    mailbox: str
    uidvalidity: int
    uids: list[int] = field(default_factory=list)
    last_uid: int = 0


@dataclass
class RestartInput:
    number: str
    message_id: int


@dataclass
class RestartResult:  # a closed ticket's new run; None: on its timeline already, or unknown
    start: TicketStartInput | None = None


@dataclass
class RedirectResult:  # the mail as a new ticket, its start input (None: started already)
    number: str = ""
    start: TicketStartInput | None = None
