"""Open tickets at scale (issue 17 item 7, ``make bench-scale``): N open ticket workflows
(default 100,000) on one machine, measured. Prints one JSON document.

    .venv/bin/python -m benchmarks.scale                       # 100,000 (make bench-scale)
    BENCH_SCALE_COUNT=20000 .venv/bin/python -m benchmarks.scale
    BENCH_SCALE_MAX_START_SECONDS=1200 ...                     # stop starting after 20 min
    .venv/bin/python -m benchmarks.scale --quick               # 40 tickets (the test)

The stack is ``benchmarks.stack`` as every benchmark builds it: Temporal's dev server on a WAL
SQLite file (as ``make dev``), PostgreSQL for Tempodesk's database, the worker as its own
process with the shipped settings (``TEMPODESK_WORKER_CACHED_WORKFLOWS``, its slots), the demo
data seeded. Each ticket is a real ``TicketWorkflow`` started straight on Temporal (no HTTP,
as ``benchmarks.sla_timers``) with the input intake gives it, pinned to the demo's
``support`` process; it opens (its local activities write the ticket row), the demo's SLA
policy arms its timers, and it waits in its open state for an action, a signal or a timer.

Phases:
1. **Start**: ``BENCH_SCALE_CONCURRENCY`` (8) clients start tickets; every
   ``BENCH_SCALE_INTERVAL`` seconds a sample: start calls and opened tickets (rows in the
   database) per second in that interval, CPU ms per opened ticket for each process (worker,
   Temporal, PostgreSQL's backends of this database, web, this process), worker and server RSS,
   the sizes of Temporal's SQLite file and of Tempodesk's database, the load average.
2. **At rest**: all open; sizes and memory per open ticket; a few tickets' histories (events,
   bytes, timers started).
3. **Worker restart**: SIGTERM, a new worker process; seconds until it polls the ticket queue.
   Then one ``set_priority`` on each of ``BENCH_SCALE_SAMPLE`` random tickets, one after
   another: none is in the new worker's cache, so each replays its history first (p50/p99),
   the worker's RSS as its cache fills; then the same action again on some of them (cached).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from benchmarks.load import CpuMeter, CpuSample
from benchmarks.sla_timers import percentile, proc_figures
from benchmarks.stack import NAMESPACE, ChildProcess, Stack, StackOptions, build_stack
from tempodesk.contracts import (
    TICKET_TASK_QUEUE,
    TICKET_WORKFLOW,
    UPDATE_PERFORM_ACTION,
    Actor,
    CustomerRef,
    PerformActionInput,
    PerformActionResult,
    PinnedProcess,
    TicketStartInput,
)
from tempodesk.core.db import make_engine, make_session_factory, transaction
from tempodesk.core.ids import ticket_workflow_id
from tempodesk.tickets import processes

log = logging.getLogger("benchmarks.scale")

PREFIX = "SCALE-"
ACTOR = Actor("admin", is_admin=True)
HISTORY_SAMPLE = 20
BACKLOG_SECONDS = 900  # how long the last started tickets may take to open


@dataclass
class Config:
    count: int
    concurrency: int
    interval: float
    sample: int
    max_start_seconds: float
    backlog: int = 400
    warm_sample: int = 100
    seed: int = 17

    @classmethod
    def from_env(cls, quick: bool) -> Config:
        env = os.environ.get
        return cls(
            count=int(env("BENCH_SCALE_COUNT", "40" if quick else "100000")),
            concurrency=int(env("BENCH_SCALE_CONCURRENCY", "8")),
            interval=float(env("BENCH_SCALE_INTERVAL", "2" if quick else "60")),
            sample=int(env("BENCH_SCALE_SAMPLE", "10" if quick else "1000")),
            max_start_seconds=float(env("BENCH_SCALE_MAX_START_SECONDS", "0")),
            backlog=int(env("BENCH_SCALE_BACKLOG", "400")),
            warm_sample=10 if quick else 100,
        )


@dataclass
class Probe:
    """Reads the stack's figures: processes from /proc, files and the database's size."""

    stack: Stack
    meter: CpuMeter
    engine: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def opened(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM tickets WHERE number LIKE :p"), {"p": PREFIX + "%"}
                ).scalar_one()
            )

    def sizes(self) -> dict[str, float]:
        base = self.stack.temporal.db_file
        assert base is not None  # the stack's dev server always has its file
        files = [Path(f"{base}{suffix}") for suffix in ("", "-wal", "-shm")]
        temporal = sum(f.stat().st_size for f in files if f.exists())
        with self.engine.connect() as conn:
            database = conn.execute(text("SELECT pg_database_size(current_database())"))
            tempodesk = int(database.scalar_one())
        return {
            "temporal_sqlite_mb": round(temporal / 2**20, 1),
            "temporal_sqlite_main_file_mb": round(base.stat().st_size / 2**20, 1),
            "tempodesk_postgres_mb": round(tempodesk / 2**20, 1),
        }

    def memory(self) -> dict[str, float]:
        worker = proc_figures(self.stack.pids["worker"])
        server = proc_figures(self.stack.pids["temporal"])
        return {
            "worker_rss_mb": round(worker.get("rss_mb", 0.0), 1),
            "worker_peak_rss_mb": round(worker.get("peak_mb", 0.0), 1),
            "server_rss_mb": round(server.get("rss_mb", 0.0), 1),
            "server_peak_rss_mb": round(server.get("peak_mb", 0.0), 1),
        }


def cpu_ms_per(spent: dict[str, float], tickets: int) -> dict[str, float]:
    """CPU ms per ticket of each process, from CpuMeter.spent's ``<name>_s`` seconds."""
    if tickets <= 0:
        return {}
    return {
        key.removesuffix("_s"): round(1000 * value / tickets, 2)
        for key, value in spent.items()
        if key.endswith("_s")
    }


def pin_support(db_url: str) -> PinnedProcess:
    engine = make_engine(db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            return processes.pin(session, "support")
    finally:
        engine.dispose()


def ticket_input(index: int, pinned: PinnedProcess) -> TicketStartInput:
    return TicketStartInput(
        number=f"{PREFIX}{index:06d}",
        subject=f"Open ticket {index}",
        channel="api",
        customer=CustomerRef(email=f"scale{index}@example.com", name="Scale"),
        process=pinned,
        create_contact=False,
    )


# ---------------------------------------------------------------------------- 1. start


@dataclass
class Progress:
    started: int = 0
    opened: int = 0
    errors: int = 0
    last_error: str = ""


async def start_tickets(
    client: Client, pinned: PinnedProcess, config: Config, progress: Progress
) -> None:
    """``concurrency`` clients start tickets until ``count`` (or the time budget) is reached,
    never more than ``backlog`` ahead of the opened ones: a start call returns before the
    worker opens the ticket, so unchecked it outruns the worker and measures a queue."""
    deadline = time.monotonic() + config.max_start_seconds if config.max_start_seconds else None
    claimed = 0

    async def client_loop() -> None:
        nonlocal claimed
        while claimed < config.count and (deadline is None or time.monotonic() < deadline):
            if progress.started - progress.opened >= config.backlog:
                await asyncio.sleep(0.1)
                continue
            index, claimed = claimed, claimed + 1
            try:
                await client.start_workflow(
                    TICKET_WORKFLOW,
                    ticket_input(index, pinned),
                    id=ticket_workflow_id(f"{PREFIX}{index:06d}"),
                    task_queue=TICKET_TASK_QUEUE,
                )
                progress.started += 1
            except Exception as exc:  # counted, reported, the run goes on
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # Ctrl-C: the SDK may report the cancelled call as an error
                progress.errors += 1
                progress.last_error = repr(exc)[:300]

    await asyncio.gather(*(client_loop() for _ in range(config.concurrency)))


async def count_opened(probe: Probe, progress: Progress) -> None:
    while True:
        progress.opened = await asyncio.to_thread(probe.opened)
        await asyncio.sleep(0.5)


def interval_row(
    probe: Probe, began: float, mark: tuple[float, int, int, CpuSample], progress: Progress
) -> tuple[dict[str, Any], tuple[float, int, int, CpuSample]]:
    """One sample of the start phase, and the mark the next one is measured from."""
    now, opened, sample = time.monotonic(), probe.opened(), probe.meter.sample()
    seconds = now - mark[0]
    new_opened = opened - mark[2]
    row = {
        "elapsed_s": round(now - began, 1),
        "started": progress.started,
        "opened": opened,
        "start_calls_per_s": round((progress.started - mark[1]) / seconds, 1),
        "opened_per_s": round(new_opened / seconds, 1),
        "cpu_ms_per_opened_ticket": cpu_ms_per(CpuMeter.spent(mark[3], sample), new_opened),
        "machine_busy_pct": CpuMeter.spent(mark[3], sample).get("machine_busy_pct"),
        **probe.memory(),
        **probe.sizes(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    log.info("start phase: %s", json.dumps(row))
    return row, (now, progress.started, opened, sample)


async def start_phase(
    probe: Probe, client: Client, pinned: PinnedProcess, config: Config
) -> dict[str, Any]:
    progress = Progress()
    began = time.monotonic()
    first = probe.meter.sample()
    mark = (began, 0, 0, first)
    starting = asyncio.create_task(start_tickets(client, pinned, config, progress))
    counting = asyncio.create_task(count_opened(probe, progress))
    finished = 0.0
    while True:
        done, _ = await asyncio.wait({starting}, timeout=config.interval)
        probe.stack.children["worker"].check_alive()
        opened = await asyncio.to_thread(probe.opened)
        finished = finished or (time.monotonic() if done else 0.0)
        if done and opened >= progress.started:
            break
        if done:
            await asyncio.sleep(min(config.interval, 10))  # the backlog drains
        if finished and time.monotonic() - finished > BACKLOG_SECONDS:
            break  # the backlog does not drain: report what opened
        row, mark = await asyncio.to_thread(interval_row, probe, began, mark, progress)
        probe.rows.append(row)
    counting.cancel()  # (on an error asyncio.run cancels it)
    starting.result()
    wall = time.monotonic() - began
    row, _ = interval_row(probe, began, mark, progress)
    probe.rows.append(row)
    spent = CpuMeter.spent(first, probe.meter.sample())
    return {
        "started": progress.started,
        "opened": row["opened"],
        "errors": progress.errors,
        "last_error": progress.last_error,
        "wall_s": round(wall, 1),
        "opened_per_s": round(row["opened"] / wall, 1) if wall else None,
        "cpu_ms_per_opened_ticket": cpu_ms_per(spent, row["opened"]),
        "cpu_s": spent,
        "intervals": probe.rows,
    }


# ---------------------------------------------------------------------------- 2. at rest


async def histories(client: Client, numbers: list[str]) -> dict[str, Any]:
    """Events, bytes and timers of a few tickets' histories."""
    events, sizes, timers = [], [], []
    for number in numbers:
        history = await client.get_workflow_handle(ticket_workflow_id(number)).fetch_history()
        events.append(len(history.events))
        sizes.append(sum(event.ByteSize() for event in history.events))
        timers.append(
            sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED)
        )
    return {
        "tickets": len(numbers),
        "events_mean": round(statistics.fmean(events), 1) if events else None,
        "bytes_mean": round(statistics.fmean(sizes)) if sizes else None,
        "timers_started_mean": round(statistics.fmean(timers), 2) if timers else None,
    }


def per_ticket(rest: dict[str, float], empty: dict[str, float], opened: int) -> dict[str, float]:
    """KB per open ticket: the growth from the empty stack, divided by the tickets."""
    if opened <= 0:
        return {}
    return {
        key.replace("_mb", "_kb_per_ticket"): round(1024 * (rest[key] - empty[key]) / opened, 2)
        for key in rest
        if key in empty and key.endswith("_mb") and "peak" not in key
    }


# ---------------------------------------------------------------------------- 3. restart


async def worker_ready(client: Client, pid: int, timeout: float = 300) -> None:
    """Until a poller of the ticket queue has the new process's identity (``pid@host``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=NAMESPACE,
                task_queue=TaskQueue(name=TICKET_TASK_QUEUE),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        if any(p.identity.startswith(f"{pid}@") for p in response.pollers):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the restarted worker did not poll within {timeout:.0f} s")


async def restart_worker(probe: Probe, client: Client) -> dict[str, Any]:
    worker: ChildProcess = probe.stack.children["worker"]
    began = time.monotonic()
    worker.stop()
    stopped = time.monotonic() - began
    worker.start()  # the same object: the stack's teardown stops the new process
    probe.stack.pids["worker"] = probe.meter.pids["worker"] = worker.pid
    began = time.monotonic()
    await worker_ready(client, worker.pid)
    return {
        "stop_s": round(stopped, 2),
        "ready_s": round(time.monotonic() - began, 2),
        "worker_rss_mb_when_ready": probe.memory()["worker_rss_mb"],
    }


async def act(client: Client, number: str, priority: int) -> float:
    began = time.monotonic()
    await client.get_workflow_handle(ticket_workflow_id(number)).execute_update(
        UPDATE_PERFORM_ACTION,
        PerformActionInput("set_priority", ACTOR, {"priority": priority}),
        result_type=PerformActionResult,
    )
    return 1000 * (time.monotonic() - began)


def latency(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.50), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1) if values else None,
    }


async def cold_actions(probe: Probe, client: Client, numbers: list[str]) -> dict[str, Any]:
    """One action on each of ``numbers`` after the restart, the worker's RSS as it goes."""
    cold: list[float] = []
    errors: list[str] = []
    memory = [{"cached": 0, "worker_rss_mb": probe.memory()["worker_rss_mb"]}]
    step = max(1, len(numbers) // 10)
    before = probe.meter.sample()
    for done, number in enumerate(numbers, 1):
        try:
            cold.append(await act(client, number, 3))
        except Exception as exc:  # counted and reported
            errors.append(f"{number}: {exc!r}"[:300])
        if done % step == 0 or done == len(numbers):
            memory.append({"cached": done, "worker_rss_mb": probe.memory()["worker_rss_mb"]})
    spent = CpuMeter.spent(before, probe.meter.sample())
    warm = []
    for number in numbers[: len(numbers) // 10 or 1]:
        with contextlib.suppress(Exception):
            warm.append(await act(client, number, 4))
    # From after the first action: it loads the workflow code once, not per ticket.
    base = memory[1] if len(memory) > 2 else memory[0]
    growth = memory[-1]["worker_rss_mb"] - base["worker_rss_mb"]
    cached = memory[-1]["cached"] - base["cached"]
    return {
        "cold_action": latency(cold),
        "cold_action_cpu_ms": cpu_ms_per(spent, len(cold)),
        "warm_action": latency(warm),
        "errors": len(errors),
        "first_errors": errors[:3],
        "worker_rss_as_cache_fills": memory,
        "worker_kb_per_cached_ticket": round(1024 * growth / cached, 1) if cached else None,
    }


# ---------------------------------------------------------------------------- the run


async def measure(probe: Probe, pinned: PinnedProcess, config: Config) -> dict[str, Any]:
    client = await Client.connect(probe.stack.temporal_address, namespace=NAMESPACE)
    empty = {**probe.memory(), **probe.sizes()}
    start = await start_phase(probe, client, pinned, config)
    rest = {**probe.memory(), **probe.sizes()}
    opened = start["opened"]
    rng = random.Random(config.seed)
    numbers = [f"{PREFIX}{i:06d}" for i in range(start["started"])]
    history = await histories(client, rng.sample(numbers, min(HISTORY_SAMPLE, len(numbers))))
    restart = await restart_worker(probe, client)
    sample = rng.sample(numbers, min(config.sample, len(numbers)))
    restart.update(await cold_actions(probe, client, sample))
    return {
        "start": start,
        "empty_stack": empty,
        "at_rest": {**rest, **per_ticket(rest, empty, opened), "history": history},
        "restart": restart,
    }


def run(config: Config) -> dict[str, Any]:
    began = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        stack = build_stack(StackOptions(), cleanup)
        pinned = pin_support(stack.db_url)
        database = stack.db_url.rsplit("/", 1)[1]
        engine = make_engine(stack.db_url)
        cleanup.callback(engine.dispose)
        meter = CpuMeter(
            {k: v for k, v in stack.pids.items() if k != "baseline_worker"},
            postgres_database=database,
        )
        probe = Probe(stack, meter, engine)
        figures = asyncio.run(measure(probe, pinned, config))
    start, restart = figures["start"], figures["restart"]
    errors = [start["last_error"]] if start["errors"] else []
    errors += restart["first_errors"]
    if start["opened"] != start["started"]:
        errors.append(f"{start['started'] - start['opened']} started tickets did not open")
    return {
        "ok": not errors,
        "errors": errors,
        "config": {
            "count": config.count,
            "concurrency": config.concurrency,
            "interval_s": config.interval,
            "cold_sample": config.sample,
            "max_start_seconds": config.max_start_seconds,
            "backlog": config.backlog,
            "worker_cached_workflows": stack.settings.worker_cached_workflows,
            "temporal": "dev server, SQLite file (WAL), as make dev",
            "database": "postgresql",
            "process": f"{pinned.name} v{pinned.version} (demo data, its SLA policies)",
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        },
        **figures,
        "duration_s": round(time.monotonic() - began, 1),
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    print(json.dumps(run(Config.from_env(quick)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
