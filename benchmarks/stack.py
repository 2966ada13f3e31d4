"""The throwaway stack a benchmark run measures, and how it is taken down again.

Every piece registers its own teardown on a ``contextlib.ExitStack`` the moment it exists, so
an error or Ctrl-C at any point removes exactly what was made so far: processes, the database,
the temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from benchmarks.baseline import BASELINE_TASK_QUEUE
from tempodesk.app.devserver import TemporalDevServer, free_port
from tempodesk.contracts import TICKET_TASK_QUEUE
from tempodesk.core.settings import Settings

log = logging.getLogger("benchmarks")

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get(
    "TEMPODESK_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NAMESPACE = "default"


#: How docker-compose.yml (and the Dockerfile) run the web: gunicorn's threaded workers.
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 8
WEB_MODES = ("gunicorn", "dev", "thread")


@dataclass
class StackOptions:
    database: str = "postgresql"  # postgresql | sqlite
    worker: str = "process"  # process | thread
    # More than one: the others poll only the tickets' queue (docker-compose's `worker`
    # scaled); their CPU counts as the worker's ("worker+2", ...).
    worker_processes: int = 1
    # gunicorn: as docker-compose runs it; dev: `tempodesk web` as `make dev` runs it (its
    # own process, Werkzeug); thread: in the benchmark's process (shares its GIL).
    web: str = "gunicorn"
    web_workers: int = GUNICORN_WORKERS
    web_threads: int = GUNICORN_THREADS
    keep_tmp: bool = False
    # Extra `--dynamic-config-value KEY=VALUE`s for the dev server (none: as `make dev` runs it).
    temporal_config: list[str] = field(default_factory=list)


@dataclass
class Stack:
    """What the scenarios need to reach the stack, and the pids to account CPU to."""

    tmp: Path
    temporal: TemporalDevServer
    db_url: str
    settings: Settings
    token: str
    web_host: str
    web_port: int
    pids: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    # The workers as child processes (process mode), for a benchmark that restarts one.
    children: dict[str, ChildProcess] = field(default_factory=dict)

    @property
    def temporal_address(self) -> str:
        return self.temporal.address


# ---------------------------------------------------------------------------- child processes


class DevServer(TemporalDevServer):
    """TemporalDevServer, optionally with dynamic config values for experiments."""

    def __init__(self, *, dynamic_config: list[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.dynamic_config = list(dynamic_config)

    def command(self) -> list[str]:
        cmd = super().command()
        for value in self.dynamic_config:
            cmd += ["--dynamic-config-value", value]
        return cmd


class ChildProcess:
    """A Python child in its own session (Ctrl-C reaches us; we stop it in order)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_file: Path):
        self.name = name
        self.args = args
        self.env = env
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ChildProcess:
        with open(self.log_file, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, *self.args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        log.info("started %s (pid %d, log %s)", self.name, self.process.pid, self.log_file)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"The {self.name} exited with code {self.process.returncode}:\n"
                + tail(self.log_file)
            )

    def stop(self, timeout: float = 20.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0f s; killing it", self.name, timeout)
            process.kill()
            process.wait()


class AsyncThread:
    """An asyncio ``main(stop)`` on its own event loop in a daemon thread (thread mode)."""

    def __init__(self, name: str, main: Callable[[asyncio.Event], Awaitable[None]]):
        self.name = name
        self._main = main
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self._main(self._stop)

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc

    def start(self) -> AsyncThread:
        self._thread.start()
        log.info("started %s in a thread", self.name)
        return self

    def check_alive(self) -> None:
        if not self._thread.is_alive():
            raise RuntimeError(f"The {self.name} thread stopped: {self._error!r}")

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)


def _timed(what: str, stop: Callable[[], None]) -> None:
    started = time.monotonic()
    stop()
    log.info("%s in %.1f s", what, time.monotonic() - started)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


async def _wait_for_pollers(
    address: str, queues: list[str], alive: Callable[[], None], timeout: float
) -> None:
    client = await Client.connect(address, namespace=NAMESPACE)
    deadline = time.monotonic() + timeout
    waiting = list(queues)
    while waiting:
        alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"No worker polls {', '.join(waiting)} after {timeout:.0f} s")
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=NAMESPACE,
                task_queue=TaskQueue(name=waiting[0]),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        if response.pollers:
            waiting.pop(0)
        else:
            await asyncio.sleep(0.2)


# ---------------------------------------------------------------------------- the web app


class _QuietHandler(WSGIRequestHandler):
    """No access log: one line per request would cost more than some requests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def web_command(options: StackOptions, port: int, access_log: Path) -> list[str]:
    """The web's command line after ``python``: docker-compose's gunicorn (its workers,
    threads and access log, on a loopback port) or `make dev`'s ``tempodesk web``."""
    if options.web == "dev":
        return ["-m", "tempodesk.app.cli", "web"]
    return [
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(options.web_workers),
        "--threads",
        str(options.web_threads),
        "--timeout",
        "60",
        "--graceful-timeout",
        "30",
        "--access-logfile",
        str(access_log),
        "tempodesk.app.wsgi:app",
    ]


def _web_process(
    options: StackOptions,
    env: dict[str, str],
    tmp: Path,
    port: int,
    cleanup: contextlib.ExitStack,
) -> int:
    """The web as its own process(es); returns the pid whose process tree is the web."""
    web = ChildProcess(
        f"web ({options.web})",
        web_command(options, port, tmp / "web-access.log"),
        env,
        tmp / "web.log",
    )
    cleanup.callback(_timed, "stopped the web", web.stop)
    web.start()
    _wait_for_health(port, web.check_alive)
    return web.pid


def _wait_for_health(port: int, alive: Callable[[], None] = lambda: None) -> None:
    deadline = time.monotonic() + 60
    while True:
        alive()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        if time.monotonic() > deadline:
            raise TimeoutError("The web app did not answer /healthz within 60 s")
        time.sleep(0.1)


def _serve_web(settings: Settings, port: int, cleanup: contextlib.ExitStack) -> None:
    from tempodesk.app.runtime import Runtime
    from web import create_app

    runtime = Runtime(settings)
    cleanup.callback(runtime.close)
    app = create_app(runtime=runtime)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(10)

    cleanup.callback(stop)
    _wait_for_health(port)


# ---------------------------------------------------------------------------- the database


def _create_database(options: StackOptions, tmp: Path, cleanup: contextlib.ExitStack) -> str:
    if options.database == "sqlite":
        return f"sqlite:///{tmp / 'tempodesk.db'}"
    name = f"tempodesk_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log.info("dropped database %s", name)

    cleanup.callback(drop)
    log.info("created database %s", name)
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


def _migrate_and_seed(settings: Settings) -> tuple[str, str]:
    """Migrate, seed the demo data; return the admin's API token and the server's version."""
    from tempodesk.app import demo
    from tempodesk.core.db import make_engine, make_session_factory, transaction, upgrade

    upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            seeded = demo.seed_demo(session, mail_domain=settings.message_id_domain)
            if engine.dialect.name == "postgresql":
                version = str(session.execute(text("SHOW server_version")).scalar_one())
            else:
                version = str(session.execute(text("SELECT sqlite_version()")).scalar_one())
    finally:
        engine.dispose()
    token: str = seeded["token"]
    return token, version


# ---------------------------------------------------------------------------- the whole stack


def build_stack(options: StackOptions, cleanup: contextlib.ExitStack) -> Stack:
    """Start everything; ``cleanup`` takes it all down again, in reverse order."""
    tmp = Path(tempfile.mkdtemp(prefix="tempodesk-bench-"))
    if options.keep_tmp:
        cleanup.callback(log.info, "kept %s", tmp)
    else:
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
    log.info("working in %s", tmp)

    temporal = DevServer(
        dynamic_config=options.temporal_config,
        port=free_port(),
        db_file=tmp / "temporal.db",
        namespaces=(NAMESPACE,),
        log_file=tmp / "temporal.log",
    )
    cleanup.callback(_timed, "stopped the Temporal dev server", temporal.stop)
    started = time.monotonic()
    temporal.start()
    log.info(
        "Temporal dev server on %s (SQLite WAL file %s), ready in %.1f s",
        temporal.address,
        temporal.db_file,
        time.monotonic() - started,
    )

    db_url = _create_database(options, tmp, cleanup)
    web_port = free_port()
    values: dict[str, object] = {
        "var_dir": tmp,
        "database_url": db_url,
        "temporal_address": temporal.address,
        "temporal_namespace": NAMESPACE,
        "smtp_port": free_port(),  # nothing listens: the benchmark sends no mail
        "secret_key": "benchmark",
        "web_host": "127.0.0.1",
        "web_port": web_port,
        "base_url": f"http://127.0.0.1:{web_port}",
        "allow_private_mail_hosts": True,  # the mail benchmark's Dovecot is on loopback
    }
    settings = Settings(**values)  # type: ignore[arg-type]
    started = time.monotonic()
    token, db_version = _migrate_and_seed(settings)
    log.info("migrated and seeded %s in %.1f s", options.database, time.monotonic() - started)

    assert temporal.process is not None
    pids = {"temporal": temporal.process.pid}
    workers: dict[str, ChildProcess | AsyncThread] = {}
    env = {
        **os.environ,
        **{f"TEMPODESK_{k.upper()}": str(v) for k, v in values.items()},
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
        "PYTHONUNBUFFERED": "1",
    }
    if options.worker == "process":
        workers = {
            "worker": ChildProcess(
                "Tempodesk worker", ["-m", "tempodesk.app.cli", "worker"], env, tmp / "worker.log"
            ),
            "baseline_worker": ChildProcess(
                "baseline worker",
                ["-m", "benchmarks.baseline_worker", "--address", temporal.address],
                env,
                tmp / "baseline-worker.log",
            ),
        }
        for n in range(2, options.worker_processes + 1):
            workers[f"worker+{n}"] = ChildProcess(
                f"Tempodesk worker {n}",
                ["-m", "tempodesk.app.cli", "worker", "--queues", "tickets"],
                env,
                tmp / f"worker-{n}.log",
            )
    else:
        from benchmarks.baseline_worker import run_baseline_worker
        from tempodesk.app.worker import run_worker

        async def tempodesk_main(stop: asyncio.Event) -> None:
            await run_worker(settings, stop=stop)

        async def baseline_main(stop: asyncio.Event) -> None:
            await run_baseline_worker(temporal.address, NAMESPACE, stop=stop)

        workers = {
            "worker": AsyncThread("Tempodesk worker", tempodesk_main),
            "baseline_worker": AsyncThread("baseline worker", baseline_main),
        }
    for key, worker in workers.items():
        cleanup.callback(_timed, f"stopped the {worker.name}", worker.stop)
        worker.start()
        if isinstance(worker, ChildProcess):
            pids[key] = worker.pid  # in thread mode their CPU is the benchmark process's

    def alive() -> None:
        for worker in workers.values():
            worker.check_alive()

    started = time.monotonic()
    asyncio.run(
        _wait_for_pollers(temporal.address, [TICKET_TASK_QUEUE, BASELINE_TASK_QUEUE], alive, 60)
    )
    log.info("workers polling (%s mode) after %.1f s", options.worker, time.monotonic() - started)

    if options.web == "thread":
        _serve_web(settings, web_port, cleanup)
    else:
        pids["web"] = _web_process(options, env, tmp, web_port, cleanup)
    log.info("web app (%s) on http://127.0.0.1:%d", options.web, web_port)
    return Stack(
        tmp=tmp,
        temporal=temporal,
        db_url=db_url,
        settings=settings,
        token=token,
        web_host="127.0.0.1",
        web_port=web_port,
        pids=pids,
        versions={"database_server": db_version},
        children={k: w for k, w in workers.items() if isinstance(w, ChildProcess)},
    )
