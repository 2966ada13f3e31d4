"""The worker: ticket, mailbox and migration workflows with their activities, and the mail queue.

One worker process holds **one Temporal client and one database engine**: the workers of
both task queues, the activities (through ``activities.dispatch``, the one door that uses
the client from an activity) and the loop that starts accepted tickets all share them.
Threads they do not share: each task queue has its own activity executor with a thread for
every slot its worker may fill, so slow mail cannot starve projections, nor the other way round.
"""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import logging
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.bulk import BulkActivities
from activities.dispatch import Dispatch
from activities.mail import MailActivities
from activities.mailbox import MailboxActivities
from activities.migration import MigrationStore
from activities.privacy import PrivacyActivities
from activities.sms import SmsActivities
from activities.tickets import TicketStore
from activities.webhooks import WebhookActivities
from tempodesk.app.phone import follow_pbx, phone_activities
from tempodesk.app.worker_metrics import MetricsServer, sdk_runtime
from tempodesk.contracts import (
    MAIL_TASK_QUEUE,
    MAILBOX_TASK_QUEUE,
    TELEPHONY_TASK_QUEUE,
    TICKET_TASK_QUEUE,
    WEBHOOK_TASK_QUEUE,
)
from tempodesk.core.db import make_engine, make_session_factory, pool_options
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import AsyncFacade
from tempodesk.core.temporal_client import connect
from tempodesk.mail import mailboxes
from tempodesk.mail.inbound import InboundService
from tempodesk.tickets.intake import Intake
from tempodesk.tickets.pending import resume_pending
from tempodesk.webhooks import subscriptions as webhook_subscriptions
from workflows.bulk import BulkMessageWorkflow
from workflows.mailbox import MailboxWorkflow
from workflows.migration import ProcessMigrationWorkflow
from workflows.retention import RetentionWorkflow
from workflows.ticket import TicketWorkflow
from workflows.webhooks import WebhookWorkflow

log = logging.getLogger(__name__)

# python-statemachine imports lazily and touches pathlib at import; our own pure packages
# share their compiled-machine cache across workflows. All of them are deterministic.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "statemachine",
        "statemachines",
        "tempodesk.contracts",
        "tempodesk.core.ids",
        "tempodesk.sla.clocks",
        "yaml",
    )
)


# Activity slots per task queue. Local activities (the ticket's projection, opening step,
# customer link, assignment) run on their worker's executor too.
TICKET_ACTIVITIES = 8  # migrations (and mailbox polls of runs started on this queue)
MAILBOX_ACTIVITIES = 8  # fetch_mail, ack_mail: a mailbox's poll, pipelined with its flags
TICKET_LOCAL_ACTIVITIES = 16
MAIL_ACTIVITIES = 8  # send_mail, send_template
TELEPHONY_ACTIVITIES = 8  # send_sms, start_call (a few seconds each)
WEBHOOK_ACTIVITIES = 8  # send_webhook and its bookkeeping
ACTIVITY_SLOTS = {
    MAIL_TASK_QUEUE: MAIL_ACTIVITIES,
    MAILBOX_TASK_QUEUE: MAILBOX_ACTIVITIES,
    TELEPHONY_TASK_QUEUE: TELEPHONY_ACTIVITIES,
    WEBHOOK_TASK_QUEUE: WEBHOOK_ACTIVITIES,
}
TICKET_QUEUE_WORKFLOWS = [
    TicketWorkflow,
    ProcessMigrationWorkflow,
    MailboxWorkflow,
    WebhookWorkflow,
    RetentionWorkflow,
    BulkMessageWorkflow,
]
#: TEMPODESK_WORKER_QUEUES's names for the task queues.
QUEUES = {
    "tickets": TICKET_TASK_QUEUE,
    "mail": MAIL_TASK_QUEUE,
    "webhooks": WEBHOOK_TASK_QUEUE,
    "telephony": TELEPHONY_TASK_QUEUE,
}


def activity_executors() -> dict[str, ThreadPoolExecutor]:
    """One thread pool per task queue, a thread for every slot of its worker: one kind of
    activity cannot wait for threads another kind holds (a slow SMTP server, a template
    that runs to its time limit, an IMAP server that does not answer)."""
    return {
        TICKET_TASK_QUEUE: ThreadPoolExecutor(
            max_workers=TICKET_ACTIVITIES + TICKET_LOCAL_ACTIVITIES,
            thread_name_prefix="activity-tickets",
        ),
        MAIL_TASK_QUEUE: ThreadPoolExecutor(
            max_workers=MAIL_ACTIVITIES, thread_name_prefix="activity-mail"
        ),
        MAILBOX_TASK_QUEUE: ThreadPoolExecutor(
            max_workers=MAILBOX_ACTIVITIES, thread_name_prefix="activity-mailboxes"
        ),
        TELEPHONY_TASK_QUEUE: ThreadPoolExecutor(
            max_workers=TELEPHONY_ACTIVITIES, thread_name_prefix="activity-telephony"
        ),
        WEBHOOK_TASK_QUEUE: ThreadPoolExecutor(
            max_workers=WEBHOOK_ACTIVITIES, thread_name_prefix="activity-webhooks"
        ),
    }


def build_workers(
    client: Client,
    settings: Settings,
    sessions: sessionmaker[Session],
    executors: Mapping[str, ThreadPoolExecutor],
) -> list[Worker]:
    """The workers of a worker process (one per task queue, each with its executor from
    :func:`activity_executors`); call it on the loop that runs them."""
    inbound = InboundService(settings, sessions, Intake(settings, sessions))
    mailbox = MailboxActivities(settings, sessions, inbound)
    migrations = MigrationStore(sessions)
    dispatch = Dispatch(client, migrations, mailbox, asyncio.get_running_loop())
    store = TicketStore(sessions, settings, dispatch.wake_webhooks)
    webhooks = WebhookActivities(sessions, settings)
    privacy = PrivacyActivities(sessions, settings, dispatch.delete_workflows)
    tickets = Worker(
        client,
        task_queue=TICKET_TASK_QUEUE,
        workflows=TICKET_QUEUE_WORKFLOWS,
        activities=[
            store.open_ticket,
            store.project,
            store.project_action,
            store.select_sla,
            store.route_ticket,
            store.link_customer,
            store.choose_assignee,
            mailbox.fetch_mail,
            mailbox.ack_mail,
            mailbox.restart,
            mailbox.redirect,
            migrations.items,
            migrations.finish,
            dispatch.migrate_ticket,
            dispatch.migrate_tickets,
            dispatch.poll_mailbox,
            privacy.apply_retention,
        ],
        activity_executor=executors[TICKET_TASK_QUEUE],
        workflow_runner=SANDBOX,
        max_concurrent_activities=TICKET_ACTIVITIES,
        max_concurrent_local_activities=TICKET_LOCAL_ACTIVITIES,
        max_cached_workflows=settings.worker_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
    )
    mailboxes_worker = _mailbox_worker(client, settings, executors, mailbox)
    mails = mail_activities(sessions, settings)
    mailer = _activity_worker(client, settings, executors, MAIL_TASK_QUEUE, mails)
    hook_activities = [webhooks.pending, webhooks.send, webhooks.failed]
    hooks = _activity_worker(client, settings, executors, WEBHOOK_TASK_QUEUE, hook_activities)
    calls_and_sms = [
        SmsActivities(sessions, settings).send_sms,
        *phone_activities(sessions, settings),
    ]
    telephony = _activity_worker(client, settings, executors, TELEPHONY_TASK_QUEUE, calls_and_sms)
    return [tickets, mailboxes_worker, mailer, hooks, telephony]


def _mailbox_worker(
    client: Client,
    settings: Settings,
    executors: Mapping[str, ThreadPoolExecutor],
    mailbox: MailboxActivities,
) -> Worker:
    """The mailbox workflows on their own queue: a poll's next task never waits behind the
    tickets it just started. Runs started on the tickets' queue before keep working there
    and continue as new onto this one (workflows/mailbox.py, ``OWN_QUEUE``)."""
    return Worker(
        client,
        task_queue=MAILBOX_TASK_QUEUE,
        workflows=[MailboxWorkflow],
        activities=[mailbox.fetch_mail, mailbox.ack_mail, mailbox.restart, mailbox.redirect],
        activity_executor=executors[MAILBOX_TASK_QUEUE],
        workflow_runner=SANDBOX,
        max_concurrent_activities=MAILBOX_ACTIVITIES,
        max_concurrent_local_activities=MAILBOX_ACTIVITIES,
        max_cached_workflows=settings.worker_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
    )


def _activity_worker(
    client: Client,
    settings: Settings,
    executors: Mapping[str, ThreadPoolExecutor],
    queue: str,
    activities: Sequence[Any],
) -> Worker:
    """A worker of activities only, on ``queue`` with its own executor and its slots."""
    return Worker(
        client,
        task_queue=queue,
        activities=activities,
        activity_executor=executors[queue],
        max_concurrent_activities=ACTIVITY_SLOTS[queue],
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
    )


def selected_queues(value: str) -> list[str]:
    """The task queues named in ``TEMPODESK_WORKER_QUEUES`` (tickets, mail, webhooks,
    telephony)."""
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in QUEUES]
    if unknown or not names:
        raise ValueError(f"worker queues must be among {', '.join(QUEUES)}: {value!r}")
    return [QUEUES[name] for name in names]


def polled(queues: list[str]) -> list[str]:
    """The task queues a worker of ``queues`` polls: the tickets' queue brings the mailboxes'
    (their workflows start tickets; TEMPODESK_WORKER_QUEUES has no name of its own for it)."""
    return [*queues, MAILBOX_TASK_QUEUE] if TICKET_TASK_QUEUE in queues else queues


def mail_activities(sessions: sessionmaker[Session], settings: Settings) -> list[Any]:
    """The mail queue's activities: a ticket's mail and bulk messages."""
    mail = MailActivities(sessions, settings)
    bulk = BulkActivities(sessions, settings)
    return [
        mail.send_mail,
        mail.send_template,
        mail.prepare_template,
        mail.send_notice,
        bulk.prepare,
        bulk.pending,
        bulk.send,
        bulk.finish,
    ]


def precompile_workflow_modules() -> None:
    """The workflow sandbox imports the workflow modules afresh for every new workflow run.
    Where Python writes no bytecode (``PYTHONDONTWRITEBYTECODE``, read-only installs that
    shipped none), each of those imports compiled ``workflows/ticket.py`` again: ~5 ms of
    CPU per new ticket. Compile them once; a stale or missing file only costs that time."""
    import workflows

    for path in workflows.__path__:
        try:
            compileall.compile_dir(path, quiet=2)
        except OSError as exc:  # a read-only install: run without
            log.info("workflow bytecode not written (%s)", exc)


async def run_worker(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives; then finish in-flight tasks.
    ``ready`` is set once the workers poll and every mailbox has its workflow."""
    queues = selected_queues(settings.worker_queues)
    precompile_workflow_modules()
    runtime, sdk_metrics = sdk_runtime() if settings.worker_metrics_port else (None, None)
    client = await connect(settings, runtime=runtime)
    engine = make_engine(settings.db_url, **pool_options(settings, worker=True))
    sessions = make_session_factory(engine)
    exporter = MetricsServer(settings, sessions, sdk_metrics) if runtime is not None else None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not main thread
            loop.add_signal_handler(sig, stop.set)
    temporal = AsyncFacade(client)
    executors = activity_executors()
    try:
        built = build_workers(client, settings, sessions, executors)
        workers = [w for w in built if w.task_queue in polled(queues)]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        log.info("worker polling %s", ", ".join(queues))
        # The tickets' worker also starts what the web left pending, keeps every mailbox
        # polled and the retention schedule in place; workers of other queues do not.
        loops = TICKET_TASK_QUEUE in queues
        if loops:
            await ensure_mailbox_workflows(temporal, sessions)
            await ensure_retention(temporal, settings)
        if ready is not None:
            ready.set()
        resumer = asyncio.create_task(
            resume_pending_starts(sessions, settings, temporal, stop) if loops else stop.wait()
        )
        phone = asyncio.create_task(
            follow_pbx(settings, sessions, stop) if TELEPHONY_TASK_QUEUE in queues else stop.wait()
        )
        await stop.wait()
        await resumer
        await phone
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for executor in executors.values():
            executor.shutdown()
        if exporter is not None:
            exporter.close()
    engine.dispose()


async def ensure_retention(temporal: AsyncFacade, settings: Settings) -> None:
    """The retention schedule as the settings say; a failure is logged, not fatal (tickets
    matter more than a daily clean-up; the next start tries again)."""
    try:
        await temporal.ensure_retention_schedule(
            settings.retention_months, settings.retention_every_hours
        )
    except Exception:
        log.exception("the retention schedule was not registered; the next start tries again")


async def resume_pending_starts(
    sessions: sessionmaker[Session], settings: Settings, temporal: AsyncFacade, stop: asyncio.Event
) -> None:
    """Now and then, start the tickets the web accepted while Temporal did not answer (or
    whose web process died before Temporal confirmed them): ``pending.resume_pending``."""
    while not stop.is_set():
        try:
            await resume_pending(sessions, settings, temporal)
        except Exception:  # the database may be away too: try again next round
            log.exception("resuming accepted tickets failed; trying again later")
        try:
            await wake_waiting_webhooks(sessions, temporal)
        except Exception:
            log.exception("waking webhook deliveries failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.resume_pending_seconds)


async def wake_waiting_webhooks(sessions: sessionmaker[Session], temporal: AsyncFacade) -> None:
    """The net under the projection's wake: every enabled subscription with deliveries
    waiting has its delivery workflow running (a wake of a running one is harmless)."""
    with sessions() as session:
        waiting = webhook_subscriptions.waiting_subscriptions(session)
    for subscription_id in waiting:
        await temporal.wake_webhook(subscription_id)


async def ensure_mailbox_workflows(temporal: AsyncFacade, sessions: sessionmaker[Session]) -> None:
    """Every enabled mailbox with IMAP settings has its polling workflow (idempotent)."""
    with sessions() as session:
        names = mailboxes.pollable(session)
    for name in names:
        await temporal.ensure_mailbox(name, poll_now=False)
