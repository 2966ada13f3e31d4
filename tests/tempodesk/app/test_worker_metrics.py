"""The worker's /metrics: ours and the Temporal SDK's on one loopback port."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import uuid

import pytest

from tempodesk.app.devserver import free_port
from tempodesk.app.worker_metrics import MetricsServer
from tests.helpers import Stack, WorkerThread


def test_the_worker_exports_our_metrics_and_the_sdks_after_a_ticket(stack: Stack) -> None:
    port = free_port()
    worker = WorkerThread(stack.settings.model_copy(update={"worker_metrics_port": port})).start()
    try:
        for _ in range(2):  # whichever worker opens them, both count in this process
            created = stack.client().post(
                "/api/v1/tickets",
                json={
                    "subject": "Worker metrics",
                    "body": "Count me.",
                    "customer": {"email": f"wm-{uuid.uuid4().hex[:6]}@example.com"},
                },
                headers=stack.api(),
            )
            assert created.status_code == 201
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    finally:
        worker.stop()
    found = re.search(r"^tempodesk_tickets_opened_total (\S+)$", text, re.M)
    assert found is not None and float(found.group(1)) >= 2
    assert re.search(r"^tempodesk_pending_starts \d", text, re.M)
    assert re.search(r"^temporal_\w+", text, re.M), "the SDK's runtime metrics are missing"


def test_the_worker_metrics_refuse_other_paths_and_tokens_without_the_ops_scope(
    stack: Stack,
) -> None:
    settings = stack.settings.model_copy(update={"worker_metrics_port": free_port()})
    server = MetricsServer(settings, stack.sessions, None)
    try:
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/other", timeout=5)
        assert missing.value.code == 404
        assert not server.allowed("192.0.2.1", f"Bearer {stack.token_for('admin')}")  # api scope
        assert not server.allowed("192.0.2.1", "")
        assert server.allowed("127.0.0.1", "")
    finally:
        server.close()
