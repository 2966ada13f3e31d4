"""The worker's ``/metrics``: the Temporal SDK's runtime metrics and ours on one port.

With ``TEMPODESK_WORKER_METRICS_PORT`` set (0: off), the worker's Temporal client runs on a
``temporalio.runtime.Runtime`` whose Prometheus exporter listens on a second, private
loopback port; a small HTTP server on the configured port answers ``/metrics`` with ours
(``tempodesk.core.metrics``, the database gauges) followed by the SDK's (``temporal_*``),
read from that private port at each scrape. One port for Prometheus to scrape, the same
access rule as the web's: loopback peers, or a bearer token with the ``ops`` scope.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from tempodesk.core import metrics
from tempodesk.core.settings import Settings
from tempodesk.people import accounts
from tempodesk.tickets import health

log = logging.getLogger(__name__)


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sdk_runtime() -> tuple[Runtime, str]:
    """A Temporal runtime exporting the SDK's metrics, and where to read them."""
    address = f"127.0.0.1:{free_loopback_port()}"
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=address, durations_as_seconds=True)
        )
    )
    return runtime, f"http://{address}/metrics"


class MetricsServer:
    """``/metrics`` on ``host:port`` in a daemon thread; ``close()`` stops it."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], sdk_url: str | None
    ) -> None:
        self.sessions = sessions
        self.sdk_url = sdk_url
        handler = _handler(self)
        self.server = ThreadingHTTPServer(
            (settings.worker_metrics_host, settings.worker_metrics_port), handler
        )
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="worker-metrics", daemon=True
        )
        self.thread.start()
        log.info("worker metrics on %s:%s/metrics", settings.worker_metrics_host, self.port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def allowed(self, peer: str, authorization: str) -> bool:
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(peer).is_loopback:
                return True
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        with self.sessions() as session:
            found = accounts.user_for_token(session, token.strip(), "ops")
            session.commit()  # its last use
        return found is not None

    def body(self) -> bytes:
        def gauges() -> dict[str, float]:
            with self.sessions() as session:
                return health.read(session).counts()

        ours = metrics.exposition(metrics.DatabaseCollector(gauges))
        if self.sdk_url is None:
            return ours
        try:
            with urllib.request.urlopen(self.sdk_url, timeout=5) as answer:
                sdk: bytes = answer.read()
        except OSError as exc:
            log.warning("the SDK's metrics did not answer: %s", exc)
            sdk = b""
        return ours + sdk


def _handler(owner: MetricsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self._answer(404, b"not found\n")
            elif not owner.allowed(self.client_address[0], self.headers.get("Authorization", "")):
                self._answer(403, b"forbidden\n")
            else:
                self._answer(200, owner.body(), "text/plain; version=0.0.4; charset=utf-8")

        def _answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a scrape every few seconds is not news

    return Handler
