"""Payloads between the web, the workflows and the activities: small dataclasses, one module.

Every workflow run, update, signal, query and activity takes one ``…Input`` and returns one
``…Result``. New fields always get defaults, so recorded histories still decode. Message
bodies never appear here, only the ids of stored messages (claim checks).

Imported by workflow code, so it stays deterministic: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from temporalio.common import SearchAttributeKey

TICKET_TASK_QUEUE = "tempodesk-tickets"
MAIL_TASK_QUEUE = "tempodesk-mail"

TICKET_WORKFLOW = "TicketWorkflow"
UPDATE_PERFORM_ACTION = "perform_action"
UPDATE_CONFIRM_CREATED = "confirm_created"
UPDATE_MIGRATE_PROCESS = "migrate_process"
MIGRATION_WORKFLOW = "ProcessMigrationWorkflow"
SIGNAL_CUSTOMER_MESSAGE = "customer_message"
SIGNAL_RELINK_CONTACT = "relink_contact"
QUERY_SNAPSHOT = "snapshot"  # the ticket as its workflow has it (the Temporal UI shows it)

# Activity names: workflows refer to activities by these names only (see ARCHITECTURE.md).
ACT_OPEN_TICKET = "open_ticket"
# The error type of an opening the database refused (non-retryable: retried, it fails again).
OPENING_FAILED = "OpeningFailed"
ACT_PROJECT = "project_ticket"
# Before the one-step opening: still registered, for tickets whose first task replays them.
ACT_LINK_CUSTOMER = "link_customer"
ACT_CHOOSE_ASSIGNEE = "choose_assignee"
ACT_SEND_MAIL = "send_mail"
ACT_SEND_TEMPLATE = "send_template"
ACT_MIGRATION_ITEMS = "migration_items"
ACT_MIGRATE_TICKET = "migrate_ticket"
ACT_FINISH_MIGRATION = "finish_migration"
ACT_FETCH_MAIL = "fetch_mail"
ACT_ACK_MAIL = "ack_mail"
ACT_RESTART = "restart_ticket"
ACT_PREPARE_TEMPLATE = "prepare_template"
ACT_SEND_NOTICE = "send_notice"
ACT_REDIRECT = "redirect_message"
# Before workflows drove the tickets themselves: for runs that replay them (activities.dispatch).
ACT_MIGRATE_TICKETS = "migrate_tickets"
ACT_POLL_MAILBOX = "poll_mailbox"
MAILBOX_WORKFLOW = "MailboxWorkflow"
SIGNAL_POLL_NOW = "poll_now"
SIGNAL_STOP = "stop"


SA_STATE = SearchAttributeKey.for_keyword("TicketState")
SA_STATE_CATEGORY = SearchAttributeKey.for_keyword("TicketStateCategory")
SA_NUMBER = SearchAttributeKey.for_keyword("TicketNumber")
SA_ASSIGNEE = SearchAttributeKey.for_keyword("Assignee")
SA_GROUP = SearchAttributeKey.for_keyword("AssignedGroup")
SA_PRIORITY = SearchAttributeKey.for_int("Priority")
SA_CUSTOMER_EMAIL = SearchAttributeKey.for_keyword("CustomerEmail")
SA_PROCESS = SearchAttributeKey.for_keyword("TicketProcess")
#: What the workflow keeps indexed: every search attribute, set by the workflow alone.
TICKET_SEARCH_ATTRIBUTES = (
    SA_NUMBER,
    SA_STATE,
    SA_STATE_CATEGORY,
    SA_ASSIGNEE,
    SA_GROUP,
    SA_PRIORITY,
    SA_CUSTOMER_EMAIL,
    SA_PROCESS,
)

#: name -> type, as `temporal server start-dev --search-attribute` and the operator CLI want it.
SEARCH_ATTRIBUTES: dict[str, str] = {
    SA_STATE.name: "Keyword",
    SA_STATE_CATEGORY.name: "Keyword",
    SA_NUMBER.name: "Keyword",
    SA_ASSIGNEE.name: "Keyword",
    SA_GROUP.name: "Keyword",
    SA_PRIORITY.name: "Int",
    SA_CUSTOMER_EMAIL.name: "Keyword",
    SA_PROCESS.name: "Keyword",
}


@dataclass
class Actor:
    """Who asks for a change. The web fills it from the signed-in user; the workflow re-checks
    the rights it implies against the pinned definition."""

    username: str
    groups: list[str] = field(default_factory=list)
    is_admin: bool = False
    kind: str = "agent"  # agent | system | customer
    contact_id: int | None = None  # a customer's contact (the portal), checked against the ticket


SYSTEM = Actor(username="system", kind="system", is_admin=True)


@dataclass
class PinnedProcess:
    """A published definition version, pinned into the ticket when it starts.

    ``document`` is JSON text, not a dict: Temporal's JSON converter sorts dict keys, and the
    order of states and actions is meaningful.
    """

    name: str
    version: int
    document: str


@dataclass
class CustomerRef:
    email: str = ""
    name: str = ""
    phone: str = ""
    # Anyone may type anything on the anonymous form: an order number given there is linked
    # only when the order's customer has exactly this email (the public form sets it).
    order_needs_email: bool = False


@dataclass
class OutboundMail:
    """Mail queued for sending by the workflow: bodies stay in the database.

    ``kind`` "reply": the stored message ``message_id`` goes to ``to``. ``kind`` "template":
    the template goes to the people in ``to_role`` (``message_id``, if set, is the reply the
    template refers to, e.g. a portal reply).
    """

    message_id: int
    event_seq: int
    to: str
    author: str = ""
    kind: str = "reply"
    template: str = ""
    to_role: str = ""
    effect_index: int = 0
    action_id: str = ""
    action_label: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    auto_submitted: str = "auto-generated"


@dataclass
class TicketSnapshot:
    """The live state of a ticket: returned by the ``snapshot`` query, projected to the DB."""

    number: str
    subject: str
    state: str
    state_label: str
    state_category: str
    process_name: str
    process_version: int
    channel: str = ""
    priority: int = 2
    assignee: str | None = None
    group: str | None = None
    contact_id: int | None = None
    order_id: int | None = None
    customer_email: str = ""
    customer_name: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    created_at: str = ""
    updated_at: str = ""
    first_message_id: int | None = None
    customer_message_id: str = ""  # RFC 5322 Message-ID of the customer's last mail, if any
    state_entered_at: str = ""  # when the ticket entered its current state (timeouts)
    state_entry: int = 0  # counts state changes, so a timer knows its state was left
    mailbox: str = ""  # the mailbox it came through (replies go out from it)

    @classmethod
    def opening(
        cls, start: TicketStartInput, state: str, label: str, category: str, now: str
    ) -> TicketSnapshot:
        """A new ticket as it starts: in its process's initial state, not linked yet."""
        return cls(
            number=start.number,
            subject=start.subject,
            state=state,
            state_label=label,
            state_category=category,
            process_name=start.process.name,
            process_version=start.process.version,
            channel=start.channel,
            priority=start.priority,
            customer_email=start.customer.email,
            customer_name=start.customer.name,
            created_at=now,
            updated_at=now,
            first_message_id=start.message_id,
            state_entered_at=now,
            mailbox=start.mailbox,
            customer_message_id=start.rfc_message_id,
        )


@dataclass
class TicketStartInput:
    number: str
    subject: str
    channel: str
    customer: CustomerRef
    process: PinnedProcess
    message_id: int | None = None
    order_number: str = ""
    priority: int = 2
    created_by: str = ""
    # Carried over by continue-as-new:
    restored: TicketSnapshot | None = None
    outbox: list[OutboundMail] = field(default_factory=list)
    seen_messages: list[int] = field(default_factory=list)
    # The latest actions' answers by Update id: a retry reaching the next run is not redone.
    answered: dict[str, PerformActionResult] = field(default_factory=dict)
    # Continue-as-new after this many events in one run (0: only when Temporal suggests it).
    continue_as_new_after: int = 0
    # Email intake:
    mailbox: str = ""
    rfc_message_id: str = ""  # the customer's Message-ID, to answer In-Reply-To it
    spam: bool = False  # the spam filter flagged it: straight into the spam state
    acknowledge: str = ""  # a template to confirm receipt with (Auto-Submitted: auto-replied)
    create_contact: bool = True  # an unknown sender becomes a contact
    # A closed ticket's new run (restored from the database) after the customer wrote again.
    reopen: bool = False

    @classmethod
    def reopening(cls, process: PinnedProcess, ticket: TicketSnapshot) -> TicketStartInput:
        """A new run of a closed ticket's workflow, restored from its projection, reopened."""
        return cls(
            number=ticket.number,
            subject=ticket.subject,
            channel=ticket.channel,
            customer=CustomerRef(email=ticket.customer_email, name=ticket.customer_name),
            process=process,
            restored=ticket,
            reopen=True,
            mailbox=ticket.mailbox,
        )


@dataclass
class TicketResult:
    number: str
    state: str
    seq: int


@dataclass
class ConfirmCreatedInput:
    """Sent with the start (update-with-start): answered once the ticket is in the database."""

    number: str


@dataclass
class ConfirmCreatedResult:
    state: str


@dataclass
class PerformActionInput:
    action: str
    actor: Actor
    fields: dict[str, Any] = field(default_factory=dict)
    # The state the agent saw when they pressed the button; a stale page is refused.
    expected_state: str | None = None


@dataclass
class PerformActionResult:
    state: str
    state_label: str
    seq: int


@dataclass
class CustomerMessageInput:
    """A fact: the customer wrote. The body is already stored as message ``message_id``."""

    message_id: int
    author: str = ""
    channel: str = ""
    rfc_message_id: str = ""
    auto_reply: bool = False  # an out-of-office: recorded, moves nothing, notifies nobody
    if_closed: str = ""  # closed, still sending: "reopen" | "new" ticket (mailbox policy)


@dataclass
class TicketEventRecord:
    seq: int
    kind: str  # created | action | customer_message | email_sent | email_failed
    at: str
    actor: str = ""
    action: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    message_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class MessageLink:
    """A stored message put on the ticket's timeline by the workflow (the projection sets
    what it is: a customer's message, a reply, a note, a sent template)."""

    message_id: int
    channel: str
    sender_role: str  # customer | agent | system
    internal: bool
    author: str = ""
    recipient: str = ""
    delivery_status: str | None = None


@dataclass
class ProjectionInput:
    snapshot: TicketSnapshot
    events: list[TicketEventRecord] = field(default_factory=list)
    messages: list[MessageLink] = field(default_factory=list)


@dataclass
class OpenTicketInput:
    """A new ticket's first step, one transaction: link the customer and the order, choose
    the assignee, write the projection (``created`` is the snapshot before linking, with its
    first event and message), forget the pending start."""

    created: ProjectionInput
    customer: CustomerRef
    order_number: str = ""
    create_contact: bool = True
    assignment_channel: str = ""  # the mailbox it came through, else its channel


@dataclass
class OpenTicketResult:
    link: LinkCustomerResult
    assignment: AssignmentResult

    def applied_to(self, ticket: TicketSnapshot) -> TicketSnapshot:
        """The ticket linked and assigned: what the projection wrote, what the workflow keeps."""
        return replace(
            ticket,
            contact_id=self.link.contact_id,
            order_id=self.link.order_id,
            customer_email=self.link.customer_email,
            customer_name=self.link.customer_name,
            assignee=self.assignment.assignee,
            group=self.assignment.group,
        )


@dataclass
class LinkCustomerInput:
    number: str
    customer: CustomerRef
    order_number: str = ""
    create_contact: bool = True


@dataclass
class LinkCustomerResult:
    contact_id: int | None
    customer_email: str
    customer_name: str
    order_id: int | None = None
    order_note: str = ""  # why an order number given was not linked


@dataclass
class AssignmentInput:
    number: str
    channel: str
    contact_id: int | None = None


@dataclass
class AssignmentResult:
    assignee: str | None
    group: str | None
    reason: str  # account_owner | channel_owner | default | none


@dataclass
class SendMailInput:
    ticket_number: str
    event_seq: int
    message_id: int
    to: str
    subject: str
    in_reply_to: str = ""


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


@dataclass
class TemplateDelivery:
    recipient: str
    message_id: int
    status: str  # sent | failed
    smtp_message_id: str = ""
    detail: str = ""


@dataclass
class SendTemplateResult:
    deliveries: list[TemplateDelivery] = field(default_factory=list)
    skipped: str = ""  # why nobody was sent anything, if so


@dataclass
class Notice:  # one recipient's copy of a template, rendered and stored as a message
    recipient: str
    message_id: int
    channel: str = "email"  # email | sms


@dataclass
class PreparedTemplate:
    notices: list[Notice] = field(default_factory=list)
    skipped: str = ""  # why nobody is to be sent anything, if so


@dataclass
class SendNoticeInput:
    template: SendTemplateInput
    notice: Notice


@dataclass
class MigrateProcessInput:
    """Move a ticket to another published process version (an admin's explicit choice)."""

    process: PinnedProcess
    actor: Actor
    state_map: dict[str, str] = field(default_factory=dict)
    migration_id: int = 0


@dataclass
class MigrateProcessResult:
    from_version: int
    to_version: int
    from_state: str
    to_state: str
    seq: int


@dataclass
class MigrationStartInput:
    migration_id: int


@dataclass
class MigrationResult:
    migrated: int = 0
    rejected: int = 0


@dataclass
class MailboxPollInput:
    mailbox: str


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


@dataclass
class MigrationItemsInput:
    migration_id: int
    limit: int = 500


@dataclass
class MigrationItem:
    item_id: int
    number: str


@dataclass
class MigrationItemsResult:
    items: list[MigrationItem] = field(default_factory=list)


@dataclass
class MigrateTicketInput:
    migration_id: int
    item_id: int
    number: str


@dataclass
class MigrateTicketResult:
    status: str  # migrated | rejected
    message: str = ""


@dataclass
class RelinkContactInput:  # the customer is another contact (merged, a sender identified)
    contact_id: int
    customer_email: str
    customer_name: str
    actor: str = ""
