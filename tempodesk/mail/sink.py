"""A real SMTP server (aiosmtpd) that keeps what it receives: the development mail catcher.

`tempodesk dev` runs it so outgoing replies land in ``var/mail-sink/`` and show on the desk;
the tests run it as the SMTP server the mail activity talks to.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from tempodesk.core.db import aware


@dataclass
class CaughtMail:
    name: str
    received: float
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", ""))

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: MailSink):
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.sink.reject:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.unavailable:
            return "451 4.3.0 Try again later"
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)  # a slow server: a window for races
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        self.sink.store(str(envelope.mail_from), list(envelope.rcpt_tos), data)
        return "250 Message accepted"


class _SinkSMTP(SMTP):
    """aiosmtpd's server, refusing the whole connection when the sink is told to."""

    def __init__(self, sink: MailSink, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sink = sink

    async def _handle_client(self) -> None:
        if self.sink.refuse_connections:
            await self.push("554 5.7.1 No SMTP service here for you")
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()


class _SinkController(Controller):
    """Reads the sink's knobs at every connection (the server is made per connection)."""

    def __init__(self, sink: MailSink, port: int):
        super().__init__(_Handler(sink), hostname="127.0.0.1", port=port)
        self.sink = sink

    def factory(self) -> SMTP:
        return _SinkSMTP(
            self.sink,
            self.handler,
            enable_SMTPUTF8=self.sink.smtputf8,
            auth_require_tls=False,
            authenticator=self._authenticate,
        )

    def _authenticate(self, *_args: Any) -> AuthResult:
        return AuthResult(success=not self.sink.refuse_login, handled=False)


class MailSink:
    """Receives mail on 127.0.0.1:``port``; keeps it in memory and, if given, in ``directory``.

    Its knobs make it a misbehaving server for the tests: recipients refused, temporary
    failure, slowness, a refused login (535), a refused connection (554 greeting), no SMTPUTF8.
    """

    def __init__(self, port: int, directory: Path | None = None):
        self.port = port
        self.directory = directory
        self.caught: list[CaughtMail] = []
        self.reject: set[str] = set()  # recipients answered with 550 (permanent failure)
        self.unavailable = False  # answer 451 (temporary failure) to every message
        self.delay = 0.0  # seconds before answering DATA
        self.refuse_login = False  # AUTH answered 535 (wrong credentials)
        self.refuse_connections = False  # greet with 554 and hang up
        self.smtputf8 = True  # offer SMTPUTF8 (internationalised addresses)
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._controller = _SinkController(self, port)
        self._running = False

    def start(self) -> None:
        self._controller.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._controller.stop()
            self._running = False

    def store(self, sender: str, recipients: list[str], data: bytes) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            name = f"{time.time():.6f}-{next(self._counter):05d}.eml"
            self.caught.append(CaughtMail(name, time.time(), sender, recipients, message))
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                (self.directory / name).write_bytes(data)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[CaughtMail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.caught) >= count:
                    return list(self.caught)
            time.sleep(0.05)
        raise TimeoutError(f"expected {count} mails, caught {len(self.caught)}")


def read_caught(directory: Path, limit: int = 50) -> list[dict[str, Any]]:
    """The newest mails caught in ``directory``, for the desk's "caught mail" page."""
    from datetime import UTC, datetime

    if not directory.is_dir():
        return []
    items = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:limit]:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain", "html"))
        items.append(
            {
                "name": path.name,
                "received": aware(datetime.fromtimestamp(path.stat().st_mtime, UTC)),
                "from": str(message.get("From", "")),
                "to": str(message.get("To", "")),
                "subject": str(message.get("Subject", "")),
                "message_id": str(message.get("Message-ID", "")),
                "ticket": str(message.get("X-Tempodesk-Ticket", "")),
                "text": body.get_content() if body is not None else "",
            }
        )
    return items
