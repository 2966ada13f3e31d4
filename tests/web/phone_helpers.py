"""The stand-in PBX wired into the session's stack: the settings point at it, the worker's
AMI monitor (``tempodesk.app.phone.follow_pbx``) follows it, agent1 and agent2 have
extensions 101 and 102. Everything is put back afterwards."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from tempodesk.app.phone import follow_pbx
from tempodesk.core.db import transaction
from tempodesk.core.models import CommRecord, User
from tempodesk.telephony.standin import AmiStandIn
from tests.helpers import Stack
from tests.web.portal_helpers import eventually

EXTENSIONS = {"agent1": "101", "agent2": "102"}
PHONE_SETTINGS = (
    "pbx",
    "ami_host",
    "ami_port",
    "ami_username",
    "ami_secret",
    "allow_private_phone_hosts",
    "phone_lab",
)


@dataclass
class Pbx:
    standin: AmiStandIn
    stack: Stack

    def call(self, **where: object) -> CommRecord:
        """The newest call record matching ``where`` (column=value), once there is one."""
        found: list[CommRecord] = []

        def present() -> bool:
            with self.stack.sessions() as session:
                query = select(CommRecord).order_by(CommRecord.id.desc())
                for column, value in where.items():
                    query = query.where(getattr(CommRecord, column) == value)
                record = session.scalars(query).first()
                if record is not None:
                    session.expunge(record)
                    found.append(record)
            return bool(found)

        eventually(present)
        return found[0]

    def status_becomes(self, record_id: int, status: str) -> CommRecord:
        seen: list[CommRecord] = []

        def reached() -> bool:
            with self.stack.sessions() as session:
                record = session.get(CommRecord, record_id)
                assert record is not None
                session.expunge(record)
                seen.append(record)
                return record.status == status

        eventually(reached)
        return seen[-1]


@pytest.fixture(name="pbx")
def pbx_fixture(stack: Stack) -> Iterator[Pbx]:
    standin = AmiStandIn(username="tempodesk", secret="lab-secret").start()
    settings = stack.settings
    before = {name: getattr(settings, name) for name in PHONE_SETTINGS}
    settings.pbx, settings.ami_host, settings.ami_port = "ami", "127.0.0.1", standin.port
    settings.ami_username, settings.ami_secret = "tempodesk", "lab-secret"
    settings.allow_private_phone_hosts = settings.phone_lab = True
    with transaction(stack.sessions) as session:
        for username, extension in EXTENSIONS.items():
            session.execute(
                update(User).where(User.username == username).values(extension=extension)
            )
    stop: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    ready = threading.Event()

    def follow() -> None:
        nonlocal stop, loop

        async def main() -> None:
            nonlocal stop, loop
            stop, loop = asyncio.Event(), asyncio.get_running_loop()
            ready.set()
            await follow_pbx(settings, stack.sessions, stop)

        asyncio.run(main())

    thread = threading.Thread(target=follow, name="test-ami-monitor", daemon=True)
    thread.start()
    ready.wait(10)
    eventually(lambda: standin.clients() > 0)  # the monitor follows: no event goes unseen
    try:
        yield Pbx(standin, stack)
    finally:
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        standin.stop()
        for name, value in before.items():
            setattr(settings, name, value)
        with transaction(stack.sessions) as session:
            session.execute(
                update(User).where(User.username.in_(EXTENSIONS)).values(extension=None)
            )
