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

TELEPHONY_ACTIVITIES = 4  # start_call (a few seconds each: log in, Originate, log off)


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


def dev_pbx(settings: Settings, sessions: sessionmaker[Session]) -> tuple[Any, dict[str, str]]:
    """`make dev`'s stand-in PBX (AMI on a loopback port), started, and the environment that
    points the worker and the web app at it; the demo agents get extensions 101 and 102
    unless someone has one already."""
    from sqlalchemy import select

    from tempodesk.app.devserver import free_port, port_is_free
    from tempodesk.core.db import transaction
    from tempodesk.core.models import User
    from tempodesk.telephony.standin import AmiStandIn

    port = settings.ami_port if port_is_free(settings.ami_port) else free_port()
    standin = AmiStandIn(username="tempodesk", secret="dev-secret", port=port).start()
    with transaction(sessions) as session:
        if session.scalar(select(User.id).where(User.extension.is_not(None))) is None:
            for username, extension in (("agent1", "101"), ("agent2", "102")):
                user = session.scalar(select(User).where(User.username == username))
                if user is not None:
                    user.extension = extension
    env = {
        "TEMPODESK_PBX": "ami",
        "TEMPODESK_AMI_HOST": "127.0.0.1",
        "TEMPODESK_AMI_PORT": str(standin.port),
        "TEMPODESK_AMI_USERNAME": "tempodesk",
        "TEMPODESK_AMI_SECRET": "dev-secret",
        "TEMPODESK_ALLOW_PRIVATE_PHONE_HOSTS": "true",
        "TEMPODESK_PHONE_LAB": "true",
    }
    return standin, env
