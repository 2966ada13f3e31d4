"""The worker process: what it prepares before polling."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

import workflows.ticket
from tempodesk.app.devserver import TemporalDevServer
from tempodesk.app.worker import activity_executors, build_workers, precompile_workflow_modules
from tempodesk.contracts import (
    MAIL_TASK_QUEUE,
    MAILBOX_TASK_QUEUE,
    TELEPHONY_TASK_QUEUE,
    TICKET_TASK_QUEUE,
    WEBHOOK_TASK_QUEUE,
)
from tempodesk.core.db import make_engine, make_session_factory, pool_options
from tempodesk.core.settings import Settings
from tests.helpers import Stack


def test_workflow_modules_get_fresh_bytecode_so_the_sandbox_never_compiles_them_per_ticket() -> (
    None
):
    source = Path(workflows.ticket.__file__)
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.unlink(missing_ok=True)

    precompile_workflow_modules()

    header = cached.read_bytes()[:16]
    # A timestamp-validated .pyc of this very source: the import machinery will use it.
    assert int.from_bytes(header[4:8], "little") == 0
    assert int.from_bytes(header[8:12], "little") == int(source.stat().st_mtime) & 0xFFFFFFFF
    assert int.from_bytes(header[12:16], "little") == source.stat().st_size & 0xFFFFFFFF


def test_each_task_queue_has_its_own_executor_with_a_thread_for_every_slot(stack: Stack) -> None:
    """Slow mail (SMTP, templates) cannot take the threads that ticket projections and
    mailbox polls need, nor the other way round (issue 10 item 4)."""

    async def build() -> list[Worker]:
        client = await Client.connect(
            stack.settings.temporal_target, namespace=stack.settings.temporal_namespace
        )
        return build_workers(client, stack.settings, stack.sessions, executors)

    executors = activity_executors()
    try:
        workers = asyncio.run(build())
        configs = {worker.task_queue: worker.config() for worker in workers}
        assert set(configs) == {
            TICKET_TASK_QUEUE,
            MAILBOX_TASK_QUEUE,
            MAIL_TASK_QUEUE,
            WEBHOOK_TASK_QUEUE,
            TELEPHONY_TASK_QUEUE,
        }
        for queue, config in configs.items():
            assert config.get("activity_executor") is executors[queue]
        mail, tickets = configs[MAIL_TASK_QUEUE], configs[TICKET_TASK_QUEUE]
        release = threading.Event()
        for _ in range(mail.get("max_concurrent_activities") or 0):  # every mail slot hangs
            executors[MAIL_TASK_QUEUE].submit(release.wait, 30)
        slots = (tickets.get("max_concurrent_activities") or 0) + (
            tickets.get("max_concurrent_local_activities") or 0
        )
        assert slots > 0
        together = threading.Barrier(slots, timeout=10)
        running = [executors[TICKET_TASK_QUEUE].submit(together.wait) for _ in range(slots)]
        assert sorted(f.result(timeout=15) for f in running) == list(range(slots))
        release.set()
    finally:
        for executor in executors.values():
            executor.shutdown(cancel_futures=True)


def test_a_worker_and_a_web_process_size_their_one_pool_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        var_dir=tmp_path,
        database_url="postgresql://u@127.0.0.1:1/none",
        db_pool_size=6,
        db_max_overflow=2,
        worker_db_pool_size=12,
    )
    for worker, size, overflow in ((True, 12, 0), (False, 6, 2)):
        engine = make_engine(settings.db_url, **pool_options(settings, worker=worker))
        try:
            assert engine.pool.size() == size  # type: ignore[attr-defined]
            assert engine.pool._max_overflow == overflow  # type: ignore[attr-defined]
        finally:
            engine.dispose()


def test_workers_finish_running_activities_on_shutdown(
    tmp_path: Path, temporal: TemporalDevServer
) -> None:
    """graceful_shutdown_timeout: a deploy's SIGTERM lets activities in flight complete (the
    compose stop_grace_period leaves room for it)."""
    settings = Settings(  # type: ignore[call-arg]
        var_dir=tmp_path,
        temporal_address=temporal.address,
        worker_shutdown_seconds=45,
    )

    async def built() -> list[timedelta]:
        client = await Client.connect(settings.temporal_target, namespace="default")
        sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"))
        executors = activity_executors()
        try:
            workers = build_workers(client, settings, sessions, executors)
            return [w.config()["graceful_shutdown_timeout"] for w in workers]
        finally:
            for executor in executors.values():
                executor.shutdown()

    assert asyncio.run(built()) == [timedelta(seconds=45)] * 5
