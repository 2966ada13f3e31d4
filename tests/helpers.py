"""Test plumbing: a worker in a background thread, and a whole Tempodesk stack per database."""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.app import demo
from tempodesk.app.runtime import Runtime
from tempodesk.app.worker import run_worker
from tempodesk.core.db import transaction, upgrade
from tempodesk.core.models import Channel, Group, User
from tempodesk.core.settings import Settings
from tempodesk.mail.sink import MailSink
from tempodesk.people import accounts
from tempodesk.tickets import processes
from web import create_app

GUARDED_PROCESS = """
name: guarded
label: Guarded support (rights test)
initial: new
states:
  new:
    label: New
    category: new
    actions: [reply, comment, close, escalate]
  escalated:
    label: Escalated
    category: open
    visible_to: [Billing]
    actions: [comment, close]
  closed:
    label: Closed
    category: closed
actions:
  reply:
    label: Reply
    target: stay
    fields:
      - {id: body, type: longtext, label: Reply, required: true}
    effects:
      - {type: send_email, body_field: body}
  comment:
    label: Internal note
    target: stay
    fields:
      - {id: body, type: longtext, label: Note, required: true}
    effects:
      - {type: add_note, body_field: body}
  escalate:
    label: Escalate
    target: escalated
  close:
    label: Close
    target: closed
    groups: [Billing]
"""


class WorkerThread:
    """A Tempodesk worker (both task queues) on its own event loop in a daemon thread."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="test-worker", daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            # Ready once it polls and has started the workflows of the mailboxes it found,
            # so a test's new mailbox is not polled behind its back by a late startup.
            started = asyncio.Event()
            worker = asyncio.create_task(run_worker(self.settings, stop=self._stop, ready=started))
            waiting = asyncio.create_task(started.wait())
            await asyncio.wait({worker, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            self._ready.set()
            await worker

        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced by stop()
            self._error = exc
            self._ready.set()

    def start(self) -> WorkerThread:
        self._thread.start()
        self._ready.wait(30)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        if self._error is not None:
            raise self._error


@dataclass
class Stack:
    """Settings, database, worker, web app and mail sink sharing one database."""

    settings: Settings
    runtime: Runtime
    app: Flask
    sink: MailSink
    worker: WorkerThread
    logins: dict[str, str]
    token: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def sessions(self) -> Any:
        return self.runtime.sessions

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def login(self, username: str) -> FlaskClient:
        client = self.client()
        page = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": username,
                "password": self.logins[username],
                "csrf_token": csrf_token(page.get_data(as_text=True)),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def token_for(self, username: str) -> str:
        if username not in self.tokens:
            with transaction(self.sessions) as session:
                user = session.scalar(select(User).where(User.username == username))
                assert user is not None
                self.tokens[username] = accounts.create_token(session, user, "test")
        return self.tokens[username]

    def api(self, username: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for(username)}"}


def workflow_history(settings: Settings, workflow_id: str) -> list[Any]:
    """The events of a workflow's history, as the Temporal UI shows them."""
    from temporalio.client import Client

    async def fetch() -> list[Any]:
        client = await Client.connect(
            settings.temporal_target, namespace=settings.temporal_namespace
        )
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        return list(history.events)

    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.extend(asyncio.run(fetch())))
    thread.start()
    thread.join(30)
    return result


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def build_stack(
    settings: Settings, *, runtime: Runtime | None = None, worker: bool = True
) -> Stack:
    """Migrate, seed the demo data plus test fixtures, start a worker and the web app."""
    upgrade(settings.db_url)
    runtime = runtime or Runtime(settings)
    with transaction(runtime.sessions) as session:
        seeded = demo.seed_demo(session, mail_domain=settings.message_id_domain)
        session.add(Group(name="Limited", description="rights tests"))
        session.flush()
        accounts.create_user(session, "limited", "limited-pass", groups=["Limited"])
        seeded["logins"]["limited"] = "limited-pass"
        processes.publish(session, GUARDED_PROCESS, author="tests")
        phone = session.scalar(select(Channel).where(Channel.name == "phone"))
        assert phone is not None
        phone.process_name = "guarded"
    sink = MailSink(settings.smtp_port)
    sink.start()
    thread = WorkerThread(settings)
    if worker:
        thread.start()
    app = create_app({"TESTING": True}, runtime=runtime)
    return Stack(settings, runtime, app, sink, thread, seeded["logins"], seeded["token"])


def close_stack(stack: Stack) -> None:
    stack.worker.stop()
    stack.sink.stop()
    stack.runtime.close()
