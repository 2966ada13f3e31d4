"""A stand-in SMS gateway: a real HTTP server on loopback that speaks both provider shapes.

`tempodesk dev` runs it (what it receives is kept in ``var/sms-sink/`` and shown on the desk
as "Caught SMS"); the tests run it as the gateway the send activity talks to. It answers
like the real thing — Twilio's Messages API (basic auth, form, ``sid``/``status``; no
idempotency: a request sent twice is two SMS, as at Twilio) and the generic shape (bearer
token, JSON, ``Idempotency-Key`` honoured: a key seen before gets the first answer and sends
nothing) — and then reports delivery to the status callback (``sent``, ``delivered``; Twilio's
signed with the auth token, the generic one with ``callback_token``).

Its knobs make it misbehave for the tests: ``fail`` = 500 or 429 (nothing sent), or
``"timeout"``: it accepts (records) the SMS and answers only after ``hang_seconds``.
Every SMS records its ``reference`` (the generic ``reference``; for Twilio the ``ref`` of
its status callback URL), so a ledger can count a logical send accepted twice.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from sqlalchemy.orm import Session, sessionmaker

from tempodesk.core.db import transaction
from tempodesk.core.settings import Settings
from tempodesk.telephony import sms as settings_of_sms
from tempodesk.telephony.sms_providers import twilio_signature

GENERIC_PATH = "/v1/sms"


@dataclass
class CaughtSms:
    name: str
    received: float
    shape: str  # twilio | generic
    to: str
    sender: str
    body: str
    provider_id: str
    reference: str = ""
    status_callback: str = ""
    callbacks: list[str] = field(default_factory=list)  # statuses reported


class SmsStandIn:
    """The gateway on 127.0.0.1:``port`` (0: any free port)."""

    def __init__(
        self,
        port: int = 0,
        directory: Path | None = None,
        *,
        account: str = "AC00000000000000000000000000000000",
        token: str = "stand-in-token",
        callback_token: str = "",
    ):
        self.directory = directory
        self.account, self.token, self.callback_token = account, token, callback_token
        self.caught: list[CaughtSms] = []
        self.fail: int | str | None = None  # 500 | 429 | "timeout"
        self.hang_seconds = 5.0
        self.callbacks = True  # report delivery to the status callback
        self.callback_log: list[tuple[str, int]] = []  # (status, HTTP answer)
        # How it calls Tempodesk (url, body, headers) -> HTTP status; tests post through
        # the Flask test client instead of the network.
        self.poster: Callable[[str, bytes, dict[str, str]], int] = _post
        self._answers: dict[str, tuple[int, dict[str, Any]]] = {}  # Idempotency-Key -> answer
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._server = _Server(port, self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def generic_url(self) -> str:
        return self.url + GENERIC_PATH

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sms-stand-in", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def references(self) -> dict[str, int]:
        """How often each logical send (its reference) was accepted."""
        counts: dict[str, int] = {}
        for sms in self.caught:
            counts[sms.reference] = counts.get(sms.reference, 0) + 1
        return counts

    def record(self, sms: CaughtSms) -> None:
        with self._lock:
            self.caught.append(sms)
            self._save(sms)

    def _save(self, sms: CaughtSms) -> None:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{sms.name}.json"
            path.write_text(json.dumps(asdict(sms), ensure_ascii=False))

    def next_name(self) -> str:
        return f"{time.time_ns()}-{next(self._counter):05d}"

    def report(self, sms: CaughtSms, statuses: tuple[str, ...] = ("sent", "delivered")) -> None:
        """Post delivery reports for ``sms`` to its status callback (again, if asked: a replay)."""
        for status in statuses:
            if not sms.status_callback:
                return
            if sms.shape == "twilio":
                params = {
                    "MessageSid": sms.provider_id,
                    "MessageStatus": status,
                    "AccountSid": self.account,
                    "To": sms.to,
                    "From": sms.sender,
                }
                body = urlencode(params)
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": twilio_signature(sms.status_callback, params, self.token),
                }
            else:
                body = json.dumps({"id": sms.provider_id, "status": status})
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {self.callback_token}",
                }
            answer = self.poster(sms.status_callback, body.encode(), headers)
            with self._lock:
                self.callback_log.append((status, answer))
                sms.callbacks.append(status)
                self._save(sms)

    def send_inbound(
        self, hook_url: str, sender: str, to: str, text: str, message_id: str, shape: str = "twilio"
    ) -> int:
        """Deliver an SMS to Tempodesk as this provider would (a customer wrote)."""
        if shape == "twilio":
            params = {
                "MessageSid": message_id,
                "From": sender,
                "To": to,
                "Body": text,
                "AccountSid": self.account,
                "NumMedia": "0",
            }
            body = urlencode(params)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": twilio_signature(hook_url, params, self.token),
            }
        else:
            body = json.dumps({"from": sender, "to": to, "text": text, "message_id": message_id})
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.callback_token}",
            }
        return self.poster(hook_url, body.encode(), headers)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, gateway: SmsStandIn):
        super().__init__(("127.0.0.1", port), _Handler)
        self.gateway = gateway


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    @property
    def gateway(self) -> SmsStandIn:
        return self.server.gateway

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = urlsplit(self.path).path
        if path == f"/2010-04-01/Accounts/{self.gateway.account}/Messages.json":
            self._twilio(raw)
        elif path == GENERIC_PATH:
            self._generic(raw)
        else:
            self._answer(404, {"message": "not found"})

    def _refused(self) -> bool:
        if self.gateway.fail in (500, 429):
            self._answer(int(self.gateway.fail), {"message": "the stand-in was told to fail"})
            return True
        return False

    def _twilio(self, raw: bytes) -> None:
        expected = base64.b64encode(
            f"{self.gateway.account}:{self.gateway.token}".encode()
        ).decode()
        if self.headers.get("Authorization", "") != f"Basic {expected}":
            self._answer(401, {"code": 20003, "message": "Authenticate"})
            return
        form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        if not form.get("To") or not form.get("Body"):
            self._answer(400, {"code": 21604, "message": "A 'To' and a 'Body' are required"})
            return
        if self._refused():
            return
        callback = form.get("StatusCallback", "")
        reference = parse_qs(urlsplit(callback).query).get("ref", [""])[0]
        sms = CaughtSms(
            self.gateway.next_name(),
            time.time(),
            "twilio",
            form["To"],
            form.get("From", ""),
            form["Body"],
            "SM" + secrets.token_hex(16),
            reference,
            callback,
        )
        self._accept(sms, {"sid": sms.provider_id, "status": "queued"}, 201)

    def _generic(self, raw: bytes) -> None:
        if self.headers.get("Authorization", "") != f"Bearer {self.gateway.token}":
            self._answer(401, {"message": "bad token"})
            return
        key = self.headers.get("Idempotency-Key", "")
        with self.gateway._lock:
            replay = self.gateway._answers.get(key) if key else None
        if replay is not None:
            self._answer(*replay)
            return
        try:
            body = json.loads(raw)
            to, text = str(body["to"]), str(body["text"])
        except (ValueError, KeyError, TypeError):
            self._answer(400, {"message": "send JSON with 'to' and 'text'"})
            return
        if self._refused():
            return
        sms = CaughtSms(
            self.gateway.next_name(),
            time.time(),
            "generic",
            to,
            str(body.get("from") or ""),
            text,
            "gw-" + secrets.token_hex(12),
            str(body.get("reference") or key),
            str(body.get("status_callback") or ""),
        )
        answer = {"id": sms.provider_id, "status": "queued"}
        if key:
            with self.gateway._lock:
                self.gateway._answers[key] = (202, answer)
        self._accept(sms, answer, 202)

    def _accept(self, sms: CaughtSms, answer: dict[str, Any], status: int) -> None:
        self.gateway.record(sms)
        if self.gateway.fail == "timeout":
            time.sleep(self.gateway.hang_seconds)  # accepted; the answer comes too late
        with contextlib.suppress(OSError):  # the client may have given up waiting
            self._answer(status, answer)
        if self.gateway.callbacks:
            threading.Thread(target=self.gateway.report, args=(sms,), daemon=True).start()


def read_caught(directory: Path, limit: int = 200) -> list[CaughtSms]:
    """What the stand-in of `tempodesk dev` caught, newest first (the desk's "Caught SMS")."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.json"), reverse=True)[:limit]:
        try:
            data = json.loads(path.read_text())
            found.append(CaughtSms(**data))
        except (ValueError, TypeError, OSError):
            continue
    return found


def start_for_dev(
    settings: Settings, sessions: sessionmaker[Session], directory: Path
) -> SmsStandIn:
    """`tempodesk dev`'s gateway: the stand-in on its port, keeping what it catches in
    ``directory``, and the helpdesk's gateway set to it (Twilio's shape) unless an admin
    configured another one."""
    gateway = SmsStandIn(settings.sms_stand_in_port, directory, token=secrets.token_hex(16))
    gateway.start()
    with transaction(sessions) as session:
        current = settings_of_sms.row(session)
        if current is None or current.url.startswith(gateway.url):
            settings_of_sms.save_gateway(
                session,
                settings.model_copy(update={"allow_private_sms_hosts": True}),
                provider="twilio",
                url=gateway.url,
                account=gateway.account,
                secret=gateway.token,
                sender="+420777000000",
            )
    return gateway


def dev_environment(var: Path) -> dict[str, str]:
    """What `tempodesk dev`'s worker and web app need to know of the stand-in."""
    return {
        "TEMPODESK_SMS_SINK_DIR": str(var / "sms-sink"),
        "TEMPODESK_ALLOW_PRIVATE_SMS_HOSTS": "true",  # the stand-in listens on 127.0.0.1
    }


def dev_banner_line(settings: Settings) -> str:
    return (
        f"  Caught SMS       {settings.public_url}/desk/sms "
        f"(gateway http://127.0.0.1:{settings.sms_stand_in_port})"
    )
