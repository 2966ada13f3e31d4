"""`tempodesk doctor`: checks a deployment's configuration and connectivity, one line each
(the database and its migrations, Temporal, its namespace and search attributes, a worker
polling every task queue, SMTP, the secret key, the payload keys); exit status 1 if any fails."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable
from dataclasses import dataclass

import click
from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from tempodesk.contracts import (
    MAIL_TASK_QUEUE,
    MAILBOX_TASK_QUEUE,
    SEARCH_ATTRIBUTES,
    TICKET_TASK_QUEUE,
    WEBHOOK_TASK_QUEUE,
)
from tempodesk.core.codec import CodecKeyError, parse_keys
from tempodesk.core.db import MIGRATIONS, make_engine
from tempodesk.core.settings import Settings, get_settings
from tempodesk.core.temporal_client import connect

#: Task queue -> what must poll it (workflow tasks only where workflows run).
QUEUES = {
    TICKET_TASK_QUEUE: (
        TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    ),
    MAILBOX_TASK_QUEUE: (
        TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    ),
    MAIL_TASK_QUEUE: (TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,),
    WEBHOOK_TASK_QUEUE: (TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,),
}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


class Problem(Exception):
    """A check failed; the message says what to do."""


def check_secret(settings: Settings) -> str:
    if not settings.secret_key:
        raise Problem("TEMPODESK_SECRET_KEY is not set (a key generated under var/ is per machine)")
    if len(settings.secret_key) < 32:
        raise Problem("TEMPODESK_SECRET_KEY is shorter than 32 characters")
    return "set"


def check_database(settings: Settings) -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        raise Problem(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    if current != head:
        raise Problem(f"migrations at {current}, head is {head}: run `tempodesk db upgrade`")
    return f"reachable, migrations at head ({head})"


def check_smtp(settings: Settings) -> str:
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            code, _ = smtp.noop()
    except (OSError, smtplib.SMTPException) as exc:
        raise Problem(f"{settings.smtp_host}:{settings.smtp_port}: {exc}") from None
    return f"{settings.smtp_host}:{settings.smtp_port} answers ({code})"


def check_payload_keys(settings: Settings) -> str:
    try:
        keys = parse_keys(settings.payload_keys)
    except CodecKeyError as exc:
        raise Problem(str(exc)) from None
    return f"{len(keys)} keys: payloads encrypted" if keys else "off (payloads not encrypted)"


async def temporal_checks(settings: Settings) -> list[Check]:
    """Reachable, the namespace and search attributes there, a poller on every queue."""
    try:
        client = await asyncio.wait_for(connect(settings), timeout=15)
    except Exception as exc:
        return [Check("temporal", False, f"{settings.temporal_target}: {exc}")]
    checks = [Check("temporal", True, f"{settings.temporal_target}, namespace {client.namespace}")]
    checks.append(await _search_attributes(client))
    for queue, kinds in QUEUES.items():
        checks.append(await _pollers(client, queue, kinds))
    return checks


async def _search_attributes(client: Client) -> Check:
    try:
        found = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except Exception as exc:
        return Check("search attributes", False, str(exc))
    missing = sorted(set(SEARCH_ATTRIBUTES) - set(found.custom_attributes))
    if missing:
        return Check("search attributes", False, "missing: " + ", ".join(missing))
    return Check("search attributes", True, f"all {len(SEARCH_ATTRIBUTES)} registered")


async def _pollers(client: Client, queue: str, kinds: tuple[int, ...]) -> Check:
    counts = []
    for kind in kinds:
        answer = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=queue),
                task_queue_type=kind,  # type: ignore[arg-type]
            )
        )
        counts.append(len(answer.pollers))
    ok = all(counts)
    names = {TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW: "workflow"}
    detail = "pollers: " + ", ".join(
        f"{names.get(kind, 'activity')} {n}"  # type: ignore[call-overload]
        for kind, n in zip(kinds, counts, strict=True)
    )
    return Check(f"queue {queue}", ok, detail if ok else detail + " (no worker polls it)")


def run_checks(settings: Settings) -> list[Check]:
    checks = []
    plain: dict[str, Callable[[Settings], str]] = {
        "secret key": check_secret,
        "database": check_database,
        "smtp": check_smtp,
        "payload keys": check_payload_keys,
    }
    for name, check in plain.items():
        try:
            checks.append(Check(name, True, check(settings)))
        except Problem as exc:
            checks.append(Check(name, False, str(exc)))
    checks.extend(asyncio.run(temporal_checks(settings)))
    return checks


@click.command()
def doctor() -> None:
    """Check this deployment's configuration and connectivity."""
    checks = run_checks(get_settings())
    for check in checks:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    if not all(c.ok for c in checks):
        raise SystemExit(1)
