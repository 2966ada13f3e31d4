"""`tempodesk dev` (what `make dev` runs): up in well under a minute, Ctrl-C stops it all,
running it again keeps the data, and a busy port gets a clear message."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tempodesk.app.devserver import free_port, port_is_free


def dev_env(var: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPODESK_")}
    env.update(
        TEMPODESK_VAR_DIR=str(var),
        TEMPODESK_WEB_PORT=str(ports["web"]),
        TEMPODESK_TEMPORAL_PORT=str(ports["temporal"]),
        TEMPODESK_TEMPORAL_UI_PORT=str(ports["ui"]),
        TEMPODESK_SMTP_PORT=str(ports["smtp"]),
        TEMPODESK_SMS_STAND_IN_PORT=str(ports["sms"]),
    )
    return env


class Dev:
    def __init__(self, var: Path, ports: dict[str, int]):
        self.var, self.ports = var, ports
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tempodesk.app.cli", "dev"],
            env=dev_env(var, ports),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_for_banner(self, timeout: float = 90) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            self.output.append(line)
            if line.strip().startswith("Demo API token:"):
                return "".join(self.output)
        raise AssertionError("no banner:\n" + "".join(self.output))

    def get(self, path: str, token: str | None = None) -> Any:
        request = urllib.request.Request(f"http://127.0.0.1:{self.ports['web']}{path}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(60)
        finally:
            if self.process.stdout is not None:
                self.output.append(self.process.stdout.read())


@pytest.fixture
def ports() -> dict[str, int]:
    return {name: free_port() for name in ("web", "temporal", "ui", "smtp", "sms")}


@pytest.fixture
def var(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "var"


def test_dev_runs_everything_stops_cleanly_and_keeps_the_data(
    var: Path, ports: dict[str, int]
) -> None:
    dev = Dev(var, ports)
    try:
        started = time.monotonic()
        banner = dev.wait_for_banner()
        assert time.monotonic() - started < 60
        for url in ("/desk/", "/support/new", "/api/v1/tickets", "/namespaces/default/workflows"):
            assert url in banner
        assert f"/desk/sms (gateway http://127.0.0.1:{ports['sms']})" in banner
        token = re.search(r"Demo API token:\s+(td_\S+)", banner).group(1)  # type: ignore[union-attr]
        for user in ("admin", "agent1", "agent2"):
            assert re.search(rf"^\s+{user}\s+\S+$", banner, re.M)
        assert dev.get("/healthz")[0] == 200
        assert dev.get("/support/new")[0] == 200
        status, body = dev.get("/api/v1/tickets", token)
        numbers = sorted(t["number"] for t in json.loads(body)["items"])
        assert status == 200 and len(numbers) == 2  # the demo tickets
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['ui']}/", timeout=10) as ui:
            assert ui.status == 200
    finally:
        code = dev.interrupt()
    assert code == 0, "".join(dev.output)
    assert "Stopped." in "".join(dev.output)
    time.sleep(0.5)
    assert all(port_is_free(p) for p in ports.values())

    again = Dev(var, ports)
    try:
        again.wait_for_banner()
        status, body = again.get("/api/v1/tickets", token)
        assert sorted(t["number"] for t in json.loads(body)["items"]) == numbers
    finally:
        assert again.interrupt() == 0


def test_dev_explains_a_busy_port(var: Path, ports: dict[str, int]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", ports["web"]))
        busy.listen()
        result = subprocess.run(
            [sys.executable, "-m", "tempodesk.app.cli", "dev"],
            env=dev_env(var, ports),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"Port {ports['web']} on 127.0.0.1 is busy" in result.stderr
    assert "TEMPODESK_WEB_PORT" in result.stderr
