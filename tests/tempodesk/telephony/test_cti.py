"""The cloud PBX's HTTP side: signed events in, click-to-call out to an allowed URL only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from tempodesk.telephony import cti
from tempodesk.telephony.events import CallEvent


class _Catcher(BaseHTTPRequestHandler):
    caught: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.caught.append({"headers": dict(self.headers), "body": json.loads(body)})
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def catcher() -> Iterator[str]:
    _Catcher.caught = []
    server = HTTPServer(("127.0.0.1", 0), _Catcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/calls"
    server.shutdown()


def test_an_event_is_taken_only_with_its_signature() -> None:
    body = b'{"call_id": "c-1", "event": "ringing", "from": "+420605111222", "to": "101"}'
    assert cti.verify("k", body, cti.sign("k", body))
    assert not cti.verify("k", body, cti.sign("other", body))
    assert not cti.verify("", body, cti.sign("", body))  # no secret configured: never
    assert cti.parse_event(body) == CallEvent("c-1", "ringing", "+420605111222", "101")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"call_id": "c", "event": "exploded"}',
        b'{"event": "ringing"}',
        b'{"call_id": 5, "event": "ringing"}',
    ],
)
def test_a_malformed_event_is_refused(body: bytes) -> None:
    with pytest.raises(cti.CtiRefused):
        cti.parse_event(body)


def test_click_to_call_posts_the_call_with_its_idempotency_key(catcher: str) -> None:
    sent: list[str] = []
    cti.click_to_call(
        catcher,
        "tok",
        call_key="td.HD-1.3",
        extension="101",
        number="+420605111222",
        allow_private=True,
        before_send=lambda: sent.append("now"),
    )
    [request] = _Catcher.caught
    assert request["body"] == {"call_id": "td.HD-1.3", "extension": "101", "to": "+420605111222"}
    assert request["headers"]["Authorization"] == "Bearer tok"
    assert request["headers"]["Idempotency-Key"] == "td.HD-1.3" and sent == ["now"]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/calls", "http://169.254.169.254/latest/", "file:///etc/passwd"]
)
def test_click_to_call_refuses_internal_and_odd_addresses(url: str) -> None:
    with pytest.raises(cti.CtiRefused):
        cti.click_to_call(
            url, "tok", call_key="k", extension="1", number="+420605111222", allow_private=False
        )
