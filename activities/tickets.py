"""Database activities of a ticket: open it (link, assign, project) and write its projection.

They run as *local* activities (short database steps, no extra round trip through the
Temporal server) and are safe to run twice: every write is an upsert or guarded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.projection import write_projection
from tempodesk.contracts import (
    ACT_CHOOSE_ASSIGNEE,
    ACT_LINK_CUSTOMER,
    ACT_OPEN_TICKET,
    ACT_PROJECT,
    ACT_PROJECT_ACTION,
    ACT_ROUTE_TICKET,
    ACT_SELECT_SLA,
    OPENING_FAILED,
    ActionProjectionInput,
    AssignmentInput,
    AssignmentResult,
    CustomerRef,
    LinkCustomerInput,
    LinkCustomerResult,
    OpenTicketInput,
    OpenTicketResult,
    PinnedSla,
    ProjectionInput,
    RouteTicketInput,
    RouteTicketResult,
    SelectSlaInput,
    SelectSlaResult,
    SlaState,
    TicketSnapshot,
)
from tempodesk.core import failpoints, metrics
from tempodesk.core.db import transaction
from tempodesk.core.limits import ColumnTooLong
from tempodesk.core.models import Channel, Contact, Order, PendingStart, User
from tempodesk.core.settings import Settings
from tempodesk.people.addresses import normalize_email
from tempodesk.people.contacts import account_owners, find_or_create_contact
from tempodesk.routing.opening import AGAIN, facts_of, route_opening
from tempodesk.sla.clocks import SlaClocks
from tempodesk.sla.entitlements import account_opening
from tempodesk.sla.policies import select_policy
from tempodesk.tickets import pending

# What the database refuses to store (a value too long, a NUL, a broken constraint): the same
# step retried is refused again, so these fail the step at once instead of retrying forever.
UNSTORABLE = (DataError, IntegrityError, ColumnTooLong)


class TicketStore:
    """Activities that read and write the ticket projection and the reference data."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        wake_webhooks: Callable[[set[int]], None] | None = None,
    ):
        self.sessions = session_factory
        self.settings = settings
        # After a commit that queued webhook deliveries: their workflows are woken
        # (``Dispatch.wake_webhooks``; the worker's loop is the net if this is lost).
        self.wake_webhooks = wake_webhooks or (lambda _ids: None)

    @activity.defn(name=ACT_OPEN_TICKET)
    def open_ticket(self, input: OpenTicketInput) -> OpenTicketResult:
        """A new ticket's first step, in one transaction: link the customer and the order,
        choose the assignee, write the projection and forget the pending start."""
        number = input.created.snapshot.number
        try:
            opened = self._open(input)
        except UNSTORABLE as exc:
            # Retrying cannot store what the database refused: fail the opening for good,
            # with the reason on the pending start (ops see it; the worker tries it again
            # later, and dead-letters it after too many attempts).
            reason = f"{type(exc).__name__}: {exc}"
            pending.attempted(self.sessions, self.settings, number, reason)
            raise ApplicationError(
                f"Ticket {number} could not be opened: {reason}",
                type=OPENING_FAILED,
                non_retryable=True,
            ) from None
        metrics.TICKETS_OPENED.inc()  # a retried opening counts again: a rate, not a ledger
        return opened

    def _open(self, input: OpenTicketInput) -> OpenTicketResult:
        created = input.created
        number = created.snapshot.number
        with transaction(self.sessions) as session:
            link = link_customer(
                session, input.customer, input.order_number, create=input.create_contact
            )
            opened_at = datetime.fromisoformat(created.snapshot.created_at)
            opened = route(session, self.settings, input, link, opened_at)
            # The policy, its clocks started at the opening (the workflow's moment, not now).
            ticket = opened.applied_to(created.snapshot)
            policy = open_sla(session, ticket, link.contact_id, opened.assignment.group)
            sla = SlaState()
            SlaClocks(sla).pin(policy, opened_at, created.snapshot.state_category, input.sla_paused)
            opened.sla = sla if policy else None
            note: dict[str, Any] = {"assignment": opened.assignment.reason}
            if link.order_note:
                note["order_note"] = link.order_note
            if opened.routing_notes:
                note["routing"] = opened.routing_notes
            # Only a customer whose contracts give entitlements gets this note.
            used = account_opening(
                session, number, link.contact_id, created.snapshot.channel, opened_at.date()
            )
            if used:
                note["entitlements"] = used
            events = [
                replace(e, data={**e.data, **note}) if e.kind == "created" else e
                for e in created.events
            ]
            woken = write_projection(
                session,
                ProjectionInput(opened.applied_to(created.snapshot), events, created.messages),
            )
            session.execute(delete(PendingStart).where(PendingStart.ticket_number == number))
        failpoints.hit("projection_after_commit")
        self.wake_webhooks(woken)
        opened.finished_at = datetime.now(UTC).isoformat()
        return opened

    @activity.defn(name=ACT_SELECT_SLA)
    def select_sla(self, input: SelectSlaInput) -> SelectSlaResult:
        """The policy the ticket runs under now (after a change of it, or of the ticket)."""
        with self.sessions() as session:
            return SelectSlaResult(select_policy(session, input))

    @activity.defn(name=ACT_PROJECT)
    def project(self, input: ProjectionInput) -> None:
        """Write the ticket row, its new events and its messages; never move a ticket backwards."""
        with transaction(self.sessions) as session:
            woken = write_projection(session, input)
        failpoints.hit("projection_after_commit")  # R1 window (b): committed, not reported
        self.wake_webhooks(woken)

    @activity.defn(name=ACT_PROJECT_ACTION)
    def project_action(self, input: ActionProjectionInput) -> SelectSlaResult:
        """An action's projection with its SLA policy chosen again, in one transaction: one
        local activity per action. The row keeps the clocks the workflow had; where the policy
        changed, the workflow pins it and projects again."""
        with transaction(self.sessions) as session:
            chosen = select_policy(session, input.select)
            woken = write_projection(session, input.projection)
        failpoints.hit("projection_after_commit")  # R1 window (b): committed, not reported
        self.wake_webhooks(woken)
        return SelectSlaResult(chosen)

    @activity.defn(name=ACT_ROUTE_TICKET)
    def route_ticket(self, input: RouteTicketInput) -> RouteTicketResult:
        """Route an open ticket again (bulk re-routing, its group's timeout): the rules'
        group, assignee and skill, then the group's strategy, never ``input.exclude``."""
        ticket = input.ticket
        with transaction(self.sessions) as session:
            order = session.get(Order, ticket.order_id) if ticket.order_id is not None else None
            facts = facts_of(session, ticket, ticket.contact_id, order.number if order else "")
            routed = route_opening(
                session,
                facts,
                AssignmentResult(None, ticket.group, "none"),
                datetime.fromisoformat(input.at),
                only=AGAIN,
                exclude=input.exclude,
            )
        found = routed.assignment
        return RouteTicketResult(found.assignee, found.group, routed.notes, routed.reroute_minutes)

    # Tickets opened before the one-step opening replay these two (workflows.ticket).

    @activity.defn(name=ACT_LINK_CUSTOMER)
    def link_customer(self, input: LinkCustomerInput) -> LinkCustomerResult:
        try:
            with transaction(self.sessions) as session:
                return link_customer(
                    session, input.customer, input.order_number, create=input.create_contact
                )
        except UNSTORABLE as exc:
            raise ApplicationError(
                f"Ticket {input.number}: the customer could not be linked: {exc}",
                type=OPENING_FAILED,
                non_retryable=True,
            ) from None

    @activity.defn(name=ACT_CHOOSE_ASSIGNEE)
    def choose_assignee(self, input: AssignmentInput) -> AssignmentResult:
        with self.sessions() as session:
            return choose_assignee(session, self.settings, input.channel, input.contact_id)


def route(
    session: Session,
    settings: Settings,
    input: OpenTicketInput,
    link: LinkCustomerResult,
    at: datetime,
) -> OpenTicketResult:
    """The cascade (account owner, channel owner, default), then the routing rules and the
    group's strategy over it (``tempodesk.routing.opening``)."""
    cascade = choose_assignee(session, settings, input.assignment_channel, link.contact_id)
    facts = facts_of(
        session,
        input.created.snapshot,
        link.contact_id,
        input.order_number,
        input.customer.language,
    )
    routed = route_opening(session, facts, cascade, at, process=input.created.snapshot.process_name)
    return OpenTicketResult(
        link,
        routed.assignment,
        priority=routed.priority,
        fields=routed.fields,
        routing_notes=routed.notes,
        reroute_minutes=routed.reroute_minutes,
    )


def open_sla(
    session: Session, ticket: TicketSnapshot, contact_id: int | None, group: str | None
) -> PinnedSla | None:
    """The SLA policy a new ticket's conditions choose."""
    facts = SelectSlaInput(
        ticket.number,
        priority=ticket.priority,
        channel=ticket.channel,
        process_name=ticket.process_name,
        group=group,
        contact_id=contact_id,
        fields=ticket.fields,
    )
    return select_policy(session, facts)


def link_customer(
    session: Session, customer: CustomerRef, order_number: str, *, create: bool
) -> LinkCustomerResult:
    """The customer's contact (found the one way, ``find_or_create_contact``), and the order
    if it belongs to them: typing someone else's order number must not attach their order."""
    contact = find_or_create_contact(
        session,
        customer.email,
        customer.phone,
        customer.name,
        create=create,
        language=customer.language,
    )
    email, name = normalize_email(customer.email), customer.name.strip()
    result = LinkCustomerResult(
        contact_id=contact.id if contact else None,
        customer_email=email or (contact.email or "" if contact else ""),
        customer_name=name or (contact.name if contact else ""),
    )
    number = order_number.strip()
    if number:
        order = session.scalar(select(Order).where(func.upper(Order.number) == number.upper()))
        if order is None:
            result.order_note = f"No order {number} was found."
        elif customer.order_needs_email:
            _link_by_email(session, result, order, email)
        elif order.contact_id not in (None, result.contact_id):
            result.order_note = f"Order {order.number} belongs to another customer."
        else:
            result.order_id = order.id
    return result


def _link_by_email(session: Session, result: LinkCustomerResult, order: Order, email: str) -> None:
    """The anonymous form's rule: the order's customer's email is the sender's, exactly; the
    timeline says which way it went."""
    owner = session.get(Contact, order.contact_id) if order.contact_id is not None else None
    if owner is not None and email and owner.email == email:
        result.order_id = order.id
        result.order_note = f"Order {order.number} is linked: its customer's email matches."
    else:
        result.order_note = (
            f"Order {order.number} was not linked: its customer's email is not the sender's."
        )


def choose_assignee(
    session: Session, settings: Settings, channel_name: str, contact_id: int | None
) -> AssignmentResult:
    """The customer's account owner (``account_owners``: the contact's, else their
    organisation's) if active, else the channel's owner, else the helpdesk default."""
    active = set(session.scalars(select(User.username).where(User.is_active.is_(True))))
    channel = session.scalar(select(Channel).where(Channel.name == channel_name))
    group = (channel.group_name if channel else None) or settings.default_group or None
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    for owner in account_owners(contact):
        if owner in active:
            return AssignmentResult(owner, group, "account_owner")
    if channel and channel.owner in active:
        return AssignmentResult(channel.owner, group, "channel_owner")
    if settings.default_assignee in active:
        return AssignmentResult(settings.default_assignee, group, "default")
    return AssignmentResult(None, group, "default" if group else "none")
