"""A stand-in cloud PBX speaking the CTI shape of ``tempodesk.telephony.cti``: it takes
click-to-call POSTs (bearer token, one call per ``Idempotency-Key``, as real providers honour
it) and sends signed call events to the desk's webhook on command."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tempodesk.telephony import cti

#: How an event reaches the desk: (body, headers) -> HTTP status. By default a POST to the
#: webhook URL; tests may hand it to a test client instead.
Deliver = Callable[[bytes, dict[str, str]], int]


@dataclass
class CtiStandIn:
    secret: str
    token: str
    hook_url: str = ""
    deliver: Deliver | None = None
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)  # by call id
    requests: int = 0  # click-to-call requests taken, repeats included
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def call_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/calls"

    def start(self) -> CtiStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                status = standin._take(self.path, dict(self.headers), body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, name="cti-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _take(self, path: str, headers: dict[str, str], body: bytes) -> int:
        if path != "/calls":
            return 404
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401
        try:
            data = json.loads(body)
        except ValueError:
            return 400
        self.requests += 1
        key = headers.get("Idempotency-Key") or data.get("call_id", "")
        if key not in self.calls:  # the same key again: the same call, not another
            self.calls[key] = {"extension": data.get("extension"), "to": data.get("to")}
        return 202

    # Commands: what the cloud PBX tells the desk

    def ring(self, extension: str, caller: str) -> str:
        """A caller rings ``extension``; returns the call id."""
        call_id = f"cloud.{uuid.uuid4().hex[:12]}"
        self.event(call_id, "ringing", caller=caller, extension=extension)
        return call_id

    def event(self, call_id: str, kind: str, *, caller: str = "", extension: str = "") -> int:
        body = json.dumps(
            {"call_id": call_id, "event": kind, "from": caller, "to": extension}
        ).encode()
        headers = {
            "Content-Type": "application/json",
            cti.SIGNATURE_HEADER: cti.sign(self.secret, body),
        }
        if self.deliver is not None:
            return self.deliver(body, headers)
        request = urllib.request.Request(self.hook_url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
