"""A ticket's payloads: who acts, the pinned process, the start, actions, messages, projection."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tempodesk.contracts.sla import SelectSlaInput, SlaState
from tempodesk.contracts.triggers import OutgoingRule, TriggerSpec


@dataclass
class Actor:
    """Who asks for a change. The web fills it from the signed-in user; the workflow re-checks
    the rights it implies against the pinned definition."""

    username: str
    groups: list[str] = field(default_factory=list)
    is_admin: bool = False
    kind: str = "agent"  # agent | system | customer
    contact_id: int | None = None  # a customer's contact (the portal), checked against the ticket
    # The agent's rights (statemachines.rights: their roles' and groups' roles'); None: an
    # actor from before roles, who holds what the admin flag and their groups gave then.
    # ``groups`` are the groups they act in: their own and those under a group they supervise.
    rights: list[str] | None = None


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
    language: str = ""  # a new contact's language (a web form's), else the default


@dataclass
class OutboundMail:
    """Mail queued for sending by the workflow: bodies stay in the database.

    ``kind`` "reply": the stored message ``message_id`` goes to ``to``; ``kind`` "sms": the
    same, as an SMS to the number ``to``. ``kind`` "template":
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
    # The outgoing triggers' rules (BCC, signature), set as it leaves the outbox.
    outgoing: list[OutgoingRule] = field(default_factory=list)


@dataclass
class TicketLinkRef:
    """This ticket sees ticket ``number`` as its ``kind``; ``wait``: a child whose
    resolution its parent waits for (kept on both sides)."""

    number: str
    kind: str
    wait: bool = False


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
    form: str = ""  # the web form it came through (its slug), whose fields label ``fields``
    # Satisfaction: the event that last asked for a rating (0: never) and the agent it is
    # about; the latest rating given (score 0: none yet) and the key of the signal that gave it.
    rating_asked_seq: int = 0
    rating_agent: str = ""
    rating_score: int = 0
    rated_at: str = ""
    rating_key: str = ""
    sla: SlaState = field(default_factory=SlaState)  # the pinned policy and its clocks
    # When routing gives the ticket to someone else unless an agent acts first (ISO; "": no
    # such timer): its group's re-routing timeout (workflows.routing).
    reroute_due: str = ""
    merged_into: str = ""  # merged: the ticket that took its messages (state "merged")
    time_spent: int = 0  # minutes agents recorded on its actions
    merged_from: list[str] = field(default_factory=list)  # tickets merged into this one
    # Triggers: the keys (trigger:causing event) fired, and when each firing was (the rate).
    triggers_fired: list[str] = field(default_factory=list)
    trigger_times: list[str] = field(default_factory=list)
    # The last activity (created, a customer's message, an agent's or customer's action):
    # when, and its timeline event (idle triggers count from it, once per activity).
    active_at: str = ""
    active_seq: int = 0
    # Relations: its tags (sorted), its links to other tickets, and the children its
    # resolution waits for that are still open (workflows.ticket_links).
    tags: list[str] = field(default_factory=list)
    links: list[TicketLinkRef] = field(default_factory=list)
    open_children: list[str] = field(default_factory=list)
    split_off: list[int] = field(default_factory=list)  # messages split off into new tickets

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
            form=start.form,
            fields=dict(start.fields),
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
    # The mail was automatic (RFC 3834 Auto-Submitted, Precedence bulk/list, a robot's
    # address): no trigger auto-replies to it.
    automatic: bool = False
    create_contact: bool = True  # an unknown sender becomes a contact
    # A closed ticket's new run (restored from the database) after the customer wrote again.
    reopen: bool = False
    # A web form's request: the form (its slug; its channel takes part in assignment) and
    # its custom fields' values, checked by the form, which open as the ticket's fields.
    form: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    # The triggers (admin-defined rules) this ticket runs, in order; a signal replaces them.
    triggers: list[TriggerSpec] = field(default_factory=list)
    # The default calendar's document (``Calendar.to_dict``): business-time state timeouts
    # of a ticket without an SLA policy count in it (empty: wall-clock time).
    calendar: dict[str, Any] = field(default_factory=dict)

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

    @classmethod
    def restoring(cls, process: PinnedProcess, ticket: TicketSnapshot) -> TicketStartInput:
        """A run restored from the projection as the ticket is (a closed ticket taking a
        rating: it stays closed, so the run ends once the signal is handled)."""
        return replace(cls.reopening(process, ticket), reopen=False)


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
    # The reply goes as an SMS to this number (E.164; the web took it from the customer's
    # contact) instead of by email.
    sms_to: str = ""
    # Minutes the agent spent on what this action finishes (recorded on its event, summed).
    time_spent: int = 0


MAX_TIME_SPENT = 24 * 60  # minutes an agent may record on one action


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
    automatic: bool = False  # automatic mail (a list's, a robot's): no trigger auto-replies
    if_closed: str = ""  # closed, still sending: "reopen" | "new" ticket (mailbox policy)


@dataclass
class RateInput:
    """A fact: the customer rated the answer of event ``asked_seq`` (by ``agent``) with
    ``score`` 1-5. A comment is stored first as message ``comment_message_id``. ``key`` is
    the form's nonce: the same signal twice counts once."""

    score: int
    asked_seq: int
    agent: str = ""
    comment_message_id: int | None = None
    via: str = "email"  # email | portal
    author: str = ""
    key: str = ""


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
class ActionProjectionInput:
    """An action's projection and what its SLA policy is chosen by, for one transaction
    (the answer is a ``SelectSlaResult``: the policy the ticket runs under now)."""

    projection: ProjectionInput
    select: SelectSlaInput


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
    sla_paused: bool = False  # the initial state stops SLA clocks


@dataclass
class OpenTicketResult:
    link: LinkCustomerResult
    assignment: AssignmentResult
    # The SLA policy chosen in the same transaction, its clocks started at the opening.
    sla: SlaState | None = None
    # What routing rules set beyond the assignment (None: keep the ticket's), their reasons
    # for the timeline, and the group's re-routing timeout (0: none).
    priority: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    routing_notes: list[str] = field(default_factory=list)
    reroute_minutes: int = 0
    # When the opening's transaction committed (ISO, the worker's clock): the workflow's
    # clock stands still during a local activity, so the first timers are armed from this.
    finished_at: str = ""

    def applied_to(self, ticket: TicketSnapshot) -> TicketSnapshot:
        """The ticket linked and assigned: what the projection wrote, what the workflow keeps."""
        return replace(
            ticket,
            priority=ticket.priority if self.priority is None else self.priority,
            fields={**ticket.fields, **self.fields} if self.fields else ticket.fields,
            contact_id=self.link.contact_id,
            order_id=self.link.order_id,
            customer_email=self.link.customer_email,
            customer_name=self.link.customer_name,
            assignee=self.assignment.assignee,
            group=self.assignment.group,
            sla=self.sla or ticket.sla,
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
class RelinkContactInput:  # the customer is another contact (merged, a sender identified)
    contact_id: int
    customer_email: str
    customer_name: str
    actor: str = ""
