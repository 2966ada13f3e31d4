"""The worker's part in telephony: the telephony queue's call activities and the AMI monitor
that follows the PBX's events into the call records (incoming calls, progress, hang-ups)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from activities.telephony import PhoneActivities
from tempodesk.core.settings import Settings
from tempodesk.telephony import ami, calls, pbx
from tempodesk.telephony.events import from_ami

log = logging.getLogger(__name__)


def phone_activities(sessions: sessionmaker[Session], settings: Settings) -> list[Any]:
    """The call activities of the telephony queue."""
    return [PhoneActivities(sessions, settings).start_call]


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
