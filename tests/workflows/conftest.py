"""TicketWorkflow on the real Temporal dev server, with its activities stubbed by name.

The workflow tests run in their own namespace ("workflows"), so the stub worker's task
queues never meet the real workers of the end-to-end stacks.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pytest_asyncio
from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from statemachines import bundled, load_text
from tempodesk.app.devserver import TemporalDevServer
from tempodesk.app.worker import SANDBOX
from tempodesk.contracts import (
    ACT_ACK_MAIL,
    ACT_CHOOSE_ASSIGNEE,
    ACT_FETCH_MAIL,
    ACT_FINISH_MIGRATION,
    ACT_LINK_CUSTOMER,
    ACT_MIGRATE_TICKET,
    ACT_MIGRATION_ITEMS,
    ACT_OPEN_TICKET,
    ACT_PREPARE_TEMPLATE,
    ACT_PROJECT,
    ACT_PROJECT_ACTION,
    ACT_REDIRECT,
    ACT_RESTART,
    ACT_ROUTE_TICKET,
    ACT_SELECT_SLA,
    ACT_SEND_MAIL,
    ACT_SEND_NOTICE,
    ACT_SEND_TEMPLATE,
    MAIL_TASK_QUEUE,
    MAILBOX_TASK_QUEUE,
    TICKET_TASK_QUEUE,
    ActionProjectionInput,
    AssignmentInput,
    AssignmentResult,
    ConfirmCreatedInput,
    CustomerRef,
    LinkCustomerInput,
    LinkCustomerResult,
    MailboxAckInput,
    MailboxPollInput,
    MailboxPollResult,
    MigrateTicketInput,
    MigrateTicketResult,
    MigrationItem,
    MigrationItemsInput,
    MigrationItemsResult,
    MigrationResult,
    MigrationStartInput,
    Notice,
    OpenTicketInput,
    OpenTicketResult,
    PinnedProcess,
    PinnedSla,
    PreparedTemplate,
    ProjectionInput,
    RedirectResult,
    RestartInput,
    RestartResult,
    RouteTicketInput,
    RouteTicketResult,
    SelectSlaInput,
    SelectSlaResult,
    SendMailInput,
    SendMailResult,
    SendNoticeInput,
    SendTemplateInput,
    SendTemplateResult,
    SlaState,
    TemplateDelivery,
    TicketSnapshot,
    TicketStartInput,
)
from tempodesk.core.ids import create_update_id, ticket_workflow_id
from tempodesk.core.settings import Settings
from tempodesk.core.temporal_client import data_converter
from tempodesk.sla.clocks import SlaClocks
from tests.helpers import GUARDED_PROCESS
from workflows.mailbox import MailboxWorkflow
from workflows.migration import ProcessMigrationWorkflow
from workflows.ticket import TicketWorkflow

NAMESPACE = "workflows"


@dataclass
class Stubs:
    """In-memory stand-ins for the activities, recording what the workflow asked of them."""

    projections: dict[str, list[ProjectionInput]] = field(default_factory=dict)
    sent: list[SendMailInput] = field(default_factory=list)
    templates: list[SendTemplateInput] = field(default_factory=list)
    refuse_mail_to: set[str] = field(default_factory=set)
    # What the mailbox and migration workflows are given (tests/workflows/test_replay.py).
    polls: list[MailboxPollResult] = field(default_factory=list)
    acks: list[MailboxAckInput] = field(default_factory=list)
    fetches: list[MailboxPollInput] = field(default_factory=list)
    migration_items: list[MigrationItem] = field(default_factory=list)
    migrated: list[MigrateTicketInput] = field(default_factory=list)
    restarts: dict[str, TicketStartInput] = field(default_factory=dict)
    redirects: dict[int, RedirectResult] = field(default_factory=dict)  # by message id
    recipients: dict[str, list[str]] = field(default_factory=dict)  # a template's, by ticket
    notices: list[SendNoticeInput] = field(default_factory=list)
    mail_delay: float = 0.0  # seconds each reply takes to send (a ticket draining its outbox)
    mail_gate: threading.Event | None = None  # set: replies wait until the test opens it
    slas: dict[str, PinnedSla] = field(default_factory=dict)  # the policy by ticket number
    # Routing: a group's re-routing timeout by ticket number, and what route_ticket was asked.
    reroute_minutes: dict[str, int] = field(default_factory=dict)
    routed: list[RouteTicketInput] = field(default_factory=list)

    def latest(self, number: str) -> TicketSnapshot:
        return self.projections[number][-1].snapshot

    def events(self, number: str) -> list[Any]:
        return [e for p in self.projections.get(number, []) for e in p.events]

    def activities(self) -> list[Any]:
        @activity.defn(name=ACT_LINK_CUSTOMER)
        def link_customer(input: LinkCustomerInput) -> LinkCustomerResult:
            return LinkCustomerResult(
                contact_id=7,
                customer_email=input.customer.email,
                customer_name=input.customer.name,
                order_id=3 if input.order_number else None,
            )

        @activity.defn(name=ACT_CHOOSE_ASSIGNEE)
        def choose_assignee(input: AssignmentInput) -> AssignmentResult:
            return AssignmentResult("agent1", "Support", "account_owner")

        @activity.defn(name=ACT_OPEN_TICKET)
        def open_ticket(input: OpenTicketInput) -> OpenTicketResult:
            created = input.created
            policy, sla = self.slas.get(created.snapshot.number), SlaState()
            SlaClocks(sla).pin(
                policy,
                datetime.fromisoformat(created.snapshot.created_at),
                created.snapshot.state_category,
                input.sla_paused,
            )
            opened = OpenTicketResult(
                link_customer(
                    LinkCustomerInput("", input.customer, input.order_number, input.create_contact)
                ),
                choose_assignee(AssignmentInput("", input.assignment_channel, 7)),
                sla if policy else None,
            )
            opened.reroute_minutes = self.reroute_minutes.get(created.snapshot.number, 0)
            events = [
                replace(e, data={**e.data, "assignment": opened.assignment.reason})
                for e in created.events
            ]
            project(ProjectionInput(opened.applied_to(created.snapshot), events, created.messages))
            return opened

        @activity.defn(name=ACT_PROJECT)
        def project(input: ProjectionInput) -> None:
            self.projections.setdefault(input.snapshot.number, []).append(input)

        @activity.defn(name=ACT_PROJECT_ACTION)
        def project_action(input: ActionProjectionInput) -> SelectSlaResult:
            project(input.projection)
            return select_sla(input.select)

        @activity.defn(name=ACT_ROUTE_TICKET)
        def route_ticket(input: RouteTicketInput) -> RouteTicketResult:
            self.routed.append(input)
            agent = "agent1" if input.exclude == "agent2" else "agent2"
            minutes = self.reroute_minutes.get(input.ticket.number, 0)
            return RouteTicketResult(agent, "Support", [f"Support: round robin → {agent}"], minutes)

        @activity.defn(name=ACT_SELECT_SLA)
        def select_sla(input: SelectSlaInput) -> SelectSlaResult:
            return SelectSlaResult(self.slas.get(input.number))

        return [
            open_ticket,
            link_customer,
            choose_assignee,
            project,
            project_action,
            select_sla,
            route_ticket,
            *self.other_activities(),
        ]

    def other_activities(self) -> list[Any]:
        """Stand-ins for the mailbox's and the migration's activities."""

        @activity.defn(name=ACT_FETCH_MAIL)
        def fetch_mail(input: MailboxPollInput) -> MailboxPollResult:
            self.fetches.append(input)
            return self.polls.pop(0) if self.polls else MailboxPollResult(next_poll_seconds=1)

        @activity.defn(name=ACT_ACK_MAIL)
        def ack_mail(input: MailboxAckInput) -> None:
            self.acks.append(input)

        @activity.defn(name=ACT_RESTART)
        def restart(input: RestartInput) -> RestartResult:
            return RestartResult(self.restarts.pop(input.number, None))

        @activity.defn(name=ACT_REDIRECT)
        def redirect(input: RestartInput) -> RedirectResult:
            return self.redirects.pop(input.message_id, RedirectResult())

        @activity.defn(name=ACT_MIGRATION_ITEMS)
        def migration_items(input: MigrationItemsInput) -> MigrationItemsResult:
            found, self.migration_items = self.migration_items, []
            return MigrationItemsResult(found)

        @activity.defn(name=ACT_MIGRATE_TICKET)
        def migrate_ticket(input: MigrateTicketInput) -> MigrateTicketResult:
            self.migrated.append(input)
            return MigrateTicketResult("migrated")

        @activity.defn(name=ACT_FINISH_MIGRATION)
        def finish_migration(input: MigrationStartInput) -> MigrationResult:
            return MigrationResult(migrated=len(self.migrated))

        return [
            fetch_mail,
            ack_mail,
            restart,
            redirect,
            migration_items,
            migrate_ticket,
            finish_migration,
        ]

    def mail_activities(self) -> list[Any]:
        @activity.defn(name=ACT_SEND_MAIL)
        def send_mail(input: SendMailInput) -> SendMailResult:
            time.sleep(self.mail_delay)
            if self.mail_gate is not None:
                self.mail_gate.wait(60)
            if input.to in self.refuse_mail_to:
                raise ApplicationError(
                    "SMTP 550: mailbox unavailable",
                    type="PermanentDeliveryFailure",
                    non_retryable=True,
                )
            self.sent.append(input)
            return SendMailResult("sent", f"<{input.ticket_number}.{input.event_seq}@test>")

        @activity.defn(name=ACT_SEND_TEMPLATE)
        def send_template(input: SendTemplateInput) -> SendTemplateResult:
            self.templates.append(input)
            return SendTemplateResult(
                deliveries=[
                    TemplateDelivery(
                        f"{input.to_role}@example.com", 9000 + len(self.templates), "sent"
                    )
                ]
            )

        @activity.defn(name=ACT_PREPARE_TEMPLATE)
        def prepare_template(input: SendTemplateInput) -> PreparedTemplate:
            self.templates.append(input)
            to = self.recipients.get(input.ticket_number, [f"{input.to_role}@example.com"])
            first = 9000 + 10 * len(self.templates)
            return PreparedTemplate([Notice(a, first + i) for i, a in enumerate(to)])

        @activity.defn(name=ACT_SEND_NOTICE)
        def send_notice(input: SendNoticeInput) -> TemplateDelivery:
            self.notices.append(input)
            if input.notice.recipient in self.refuse_mail_to:
                raise ApplicationError(
                    "SMTP 550: mailbox unavailable",
                    type="PermanentDeliveryFailure",
                    non_retryable=True,
                )
            return TemplateDelivery(input.notice.recipient, input.notice.message_id, "sent")

        return [send_mail, send_template, prepare_template, send_notice]


@dataclass
class WorkflowEnv:
    client: Client
    stubs: Stubs
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def pinned(self, text: str | None = None, version: int = 1) -> PinnedProcess:
        definition = load_text(text or bundled("support"))
        return PinnedProcess(definition.name, version, definition.to_json())

    def new_number(self) -> str:
        return f"WF-{uuid.uuid4().hex[:6]}-{next(self.counter)}"

    def start_input(self, number: str | None = None, **overrides: Any) -> TicketStartInput:
        values: dict[str, Any] = {
            "number": number or self.new_number(),
            "subject": "The kettle stopped working",
            "channel": "web",
            "customer": CustomerRef(email="jana@example.com", name="Jana"),
            "process": self.pinned(),
            "message_id": 1,
        }
        values.update(overrides)
        return TicketStartInput(**values)

    async def create(self, start: TicketStartInput) -> TicketSnapshot:
        """Create the ticket as intake does; the ticket as the workflow projected it."""
        operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            TicketWorkflow.run,
            start,
            id=ticket_workflow_id(start.number),
            task_queue=TICKET_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        confirmed = await self.client.execute_update_with_start_workflow(
            TicketWorkflow.confirm_created,
            ConfirmCreatedInput(start.number),
            start_workflow_operation=operation,
            id=create_update_id(start.number),
        )
        projected = self.stubs.latest(start.number)
        assert confirmed.state == projected.state
        return projected

    def guarded(self) -> PinnedProcess:
        return self.pinned(GUARDED_PROCESS)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def wf(temporal: TemporalDevServer) -> AsyncIterator[WorkflowEnv]:
    # The converter the worker and the web connect with (its type hints cached).
    converter = data_converter(Settings())
    client = await Client.connect(temporal.address, namespace=NAMESPACE, data_converter=converter)
    stubs = Stubs()
    with ThreadPoolExecutor(max_workers=8) as executor:
        tickets = Worker(
            client,
            task_queue=TICKET_TASK_QUEUE,
            workflows=[TicketWorkflow, MailboxWorkflow, ProcessMigrationWorkflow],
            activities=stubs.activities(),
            activity_executor=executor,
            workflow_runner=SANDBOX,
        )
        mailboxes = Worker(
            client,
            task_queue=MAILBOX_TASK_QUEUE,
            workflows=[MailboxWorkflow],
            activities=stubs.activities(),
            activity_executor=executor,
            workflow_runner=SANDBOX,
        )
        mail = Worker(
            client,
            task_queue=MAIL_TASK_QUEUE,
            activities=stubs.mail_activities(),
            activity_executor=executor,
        )
        workers = (tickets, mailboxes, mail)
        tasks = [asyncio.create_task(w.run()) for w in workers]
        yield WorkflowEnv(client, stubs)
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*tasks, return_exceptions=True)
