"""The worker's part in telephony: the telephony queue's call activities and the AMI monitor
that follows the PBX's events into the call records (incoming calls, progress, hang-ups)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.telephony import PhoneActivities
from tempodesk.contracts.names import TELEPHONY_TASK_QUEUE
from tempodesk.core.settings import Settings
from tempodesk.telephony import ami, calls, pbx
from tempodesk.telephony.events import from_ami

log = logging.getLogger(__name__)

TELEPHONY_ACTIVITIES = 4  # start_call (a few seconds each: log in, Originate, log off)


def phone_activities(sessions: sessionmaker[Session], settings: Settings) -> list[Any]:
    """The call activities of the telephony queue."""
    return [PhoneActivities(sessions, settings).start_call]


def telephony_worker(
    client: Client,
    settings: Settings,
    sessions: sessionmaker[Session],
    executor: ThreadPoolExecutor,
) -> Worker:
    """The worker of the telephony queue (its executor from ``activity_executors``)."""
    return Worker(
        client,
        task_queue=TELEPHONY_TASK_QUEUE,
        activities=phone_activities(sessions, settings),
        activity_executor=executor,
        max_concurrent_activities=TELEPHONY_ACTIVITIES,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
    )


async def follow_pbx(
    settings: Settings, sessions: sessionmaker[Session], stop: asyncio.Event
) -> None:
    """With an AMI PBX: follow its events until ``stop`` (reconnecting after a drop)."""
    if settings.pbx != "ami":
        return
    try:
        config = pbx.ami_config(settings)
    except pbx.NoPbx as exc:
        log.error("not following the PBX: %s", exc)
        return

    async def on_event(event: ami.Message) -> None:
        meant = from_ami(event)
        if meant is not None:
            await asyncio.to_thread(calls.apply_events, sessions, meant, "ami")

    await ami.monitor(config, on_event, stop)
