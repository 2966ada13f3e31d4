"""The worker: ticket workflows with their local database activities, and the mail queue."""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.mail import MailActivities
from activities.mailbox import MailboxActivities
from activities.migration import MigrationActivities
from activities.tickets import TicketStore
from tempodesk.app.runtime import Runtime
from tempodesk.contracts import (
    MAIL_TASK_QUEUE,
    TICKET_TASK_QUEUE,
    MailboxPollInput,
)
from tempodesk.core.db import make_engine, make_session_factory
from tempodesk.core.ids import mailbox_workflow_id
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import TicketEngine
from tempodesk.mail import mailboxes
from tempodesk.tickets.pending import resume_pending
from workflows.mailbox import MailboxWorkflow
from workflows.migration import ProcessMigrationWorkflow
from workflows.ticket import TicketWorkflow

log = logging.getLogger(__name__)

# python-statemachine imports lazily and touches pathlib at import; our own pure packages
# share their compiled-machine cache across workflows. All of them are deterministic.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "statemachine", "statemachines", "tempodesk.contracts", "yaml"
    )
)


def build_workers(
    client: Client,
    settings: Settings,
    sessions: sessionmaker[Session],
    executor: ThreadPoolExecutor,
    runtime: Runtime | None = None,
) -> list[Worker]:
    """The two workers of a Tempodesk worker process (one per task queue)."""
    store = TicketStore(sessions, settings)
    mail = MailActivities(sessions, settings)
    migration = MigrationActivities(client, sessions)
    shared = runtime or Runtime(settings)
    mailbox = MailboxActivities(settings, sessions, lambda: shared.inbound)
    tickets = Worker(
        client,
        task_queue=TICKET_TASK_QUEUE,
        workflows=[TicketWorkflow, ProcessMigrationWorkflow, MailboxWorkflow],
        activities=[
            store.open_ticket,
            store.project,
            store.link_customer,
            store.choose_assignee,
            migration.migrate_tickets,
            mailbox.poll_mailbox,
        ],
        activity_executor=executor,
        workflow_runner=SANDBOX,
        max_concurrent_local_activities=16,
    )
    mailer = Worker(
        client,
        task_queue=MAIL_TASK_QUEUE,
        activities=[mail.send_mail, mail.send_template],
        activity_executor=executor,
        max_concurrent_activities=8,
    )
    return [tickets, mailer]


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


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives; then finish in-flight tasks."""
    precompile_workflow_modules()
    client = await Client.connect(settings.temporal_target, namespace=settings.temporal_namespace)
    engine = make_engine(settings.db_url)
    sessions = make_session_factory(engine)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not main thread
            loop.add_signal_handler(sig, stop.set)
    runtime = Runtime(settings)
    with ThreadPoolExecutor(max_workers=24, thread_name_prefix="activity") as executor:
        workers = build_workers(client, settings, sessions, executor, runtime)
        tasks = [asyncio.create_task(w.run()) for w in workers]
        log.info("worker polling %s and %s", TICKET_TASK_QUEUE, MAIL_TASK_QUEUE)
        await ensure_mailbox_workflows(client, sessions)
        resumer = asyncio.create_task(
            resume_pending_starts(sessions, settings, TicketEngine(client), stop)
        )
        await stop.wait()
        await resumer
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*tasks, return_exceptions=True)
    runtime.close()
    engine.dispose()


async def resume_pending_starts(
    sessions: sessionmaker[Session], settings: Settings, engine: TicketEngine, stop: asyncio.Event
) -> None:
    """Now and then, start the tickets the web accepted while Temporal did not answer (or
    whose web process died before Temporal confirmed them): ``pending.resume_pending``."""
    while not stop.is_set():
        try:
            await resume_pending(sessions, settings, engine)
        except Exception:  # the database may be away too: try again next round
            log.exception("resuming accepted tickets failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.resume_pending_seconds)


async def ensure_mailbox_workflows(client: Client, sessions: sessionmaker[Session]) -> None:
    """Every enabled mailbox with IMAP settings has its polling workflow (idempotent)."""
    with sessions() as session:
        names = mailboxes.pollable(session)
    for name in names:
        await client.start_workflow(
            MailboxWorkflow.run,
            MailboxPollInput(name),
            id=mailbox_workflow_id(name),
            task_queue=TICKET_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
