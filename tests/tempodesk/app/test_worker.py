"""The worker process: what it prepares before polling."""

from __future__ import annotations

import asyncio
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client

import workflows.ticket
from tempodesk.app.devserver import TemporalDevServer
from tempodesk.app.worker import build_workers, precompile_workflow_modules
from tempodesk.core.db import make_engine, make_session_factory, pool_options
from tempodesk.core.settings import Settings


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
        with ThreadPoolExecutor(max_workers=1) as executor:
            workers = build_workers(client, settings, sessions, executor)
            return [w.config()["graceful_shutdown_timeout"] for w in workers]

    assert asyncio.run(built()) == [timedelta(seconds=45)] * 2
