"""SLA timers at scale (issue 12, ``make bench-sla``): 10,000 ticket workflows, each with one
SLA timer due a few minutes after it opens, on a throwaway stack with the real dev server
(``benchmarks.stack``: Temporal's dev server on an SQLite file, PostgreSQL, the worker as its
own process). Prints one JSON document: how late each timer fired (p50, p99, max), the start
rate, and the worker's and the server's CPU and memory from /proc.

    .venv/bin/python -m benchmarks.sla_timers                 # 10,000 (make bench-sla)
    BENCH_SLA_COUNT=2000 .venv/bin/python -m benchmarks.sla_timers
    TEMPODESK_WORKER_CACHED_WORKFLOWS=1000 ...                # the SDK's default cache size

Each ticket is started straight on Temporal (no HTTP), with the ticket input intake would
give it; its opening step pins the benchmark's policy (first response in ``BENCH_SLA_DUE``
minutes of an always-open calendar, no warning), so the timer is due that long after the
opening. "Late" is the breach event's time (the workflow's clock when its task ran: the
server's timer, the task queue and the worker's pickup and replay) minus the due moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from temporalio.client import Client

from benchmarks.stack import NAMESPACE, StackOptions, build_stack
from tempodesk.contracts import (
    TICKET_TASK_QUEUE,
    TICKET_WORKFLOW,
    CustomerRef,
    PinnedProcess,
    TicketStartInput,
)
from tempodesk.core.db import make_engine, make_session_factory, transaction
from tempodesk.core.ids import ticket_workflow_id
from tempodesk.core.models import TicketEvent
from tempodesk.sla.policies import PolicyForm, save_calendar, save_policy
from tempodesk.tickets import processes

log = logging.getLogger("benchmarks.sla")

ALWAYS = {
    "time_zone": "UTC",
    "hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_figures(pid: int) -> dict[str, float]:
    """CPU seconds so far, resident and peak memory (MB) of a process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    memory = {
        line.split(":")[0]: int(line.split()[1]) / 1024
        for line in status
        if line.startswith(("VmRSS", "VmHWM"))
    }
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    return {"cpu_s": cpu, "rss_mb": memory.get("VmRSS", 0.0), "peak_mb": memory.get("VmHWM", 0)}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def pin_policy(db_url: str, due_minutes: int) -> PinnedProcess:
    """The benchmark's policy, first by position; the default process, pinned."""
    engine = make_engine(db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            save_calendar(session, "Bench always", ALWAYS, "bench", None)
            form = PolicyForm(
                name="Bench",
                calendar="Bench always",
                targets={"first_response": f"{due_minutes}m"},
                warn_percent=100,  # no warning: one timer per ticket
                position=-1000,
            )
            save_policy(session, form, "bench", None)
            pinned = processes.pin(session, "support")
    finally:
        engine.dispose()
    return pinned


async def start_all(address: str, pinned: PinnedProcess, count: int, concurrency: int) -> float:
    """Start ``count`` tickets; the seconds it took."""
    client = await Client.connect(address, namespace=NAMESPACE)
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        number = f"SLA-{index:05d}"
        start = TicketStartInput(
            number=number,
            subject=f"Timer {index}",
            channel="api",
            customer=CustomerRef(email=f"bench{index}@example.com", name="Bench"),
            process=pinned,
            create_contact=False,
        )
        async with gate:
            await client.start_workflow(
                TICKET_WORKFLOW,
                start,
                id=ticket_workflow_id(number),
                task_queue=TICKET_TASK_QUEUE,
            )

    began = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.monotonic() - began


def firings(db_url: str) -> list[float]:
    """How late each breach fired, in seconds, in the order they were due."""
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(TicketEvent.at, TicketEvent.data).where(
                    TicketEvent.kind == "sla_breached", TicketEvent.ticket_number.like("SLA-%")
                )
            ).all()
    finally:
        engine.dispose()
    late = []
    for at, data in rows:
        due = datetime.fromisoformat(data["due_at"])
        fired = at if at.tzinfo else at.replace(tzinfo=due.tzinfo)
        late.append((due, (fired - due).total_seconds()))
    return [seconds for _due, seconds in sorted(late)]


def by_tenth(late: list[float]) -> list[float]:
    """The median lateness of each tenth of the timers by due moment: a rising row means the
    firings queued up (the machine could not keep up with the rate they fell due at)."""
    size = max(1, len(late) // 10)
    return [round(statistics.median(late[i : i + size]), 2) for i in range(0, len(late), size)]


def wait_for_firings(db_url: str, count: int, deadline: float) -> list[float]:
    late: list[float] = []
    while time.monotonic() < deadline:
        late = firings(db_url)
        log.info("%d of %d timers fired", len(late), count)
        if len(late) >= count:
            break
        time.sleep(10)
    return late


def run(count: int, due_minutes: int) -> dict[str, Any]:
    with contextlib.ExitStack() as cleanup:
        stack = build_stack(StackOptions(), cleanup)
        pinned = pin_policy(stack.db_url, due_minutes)
        pids = {"worker": stack.pids["worker"], "server": stack.pids["temporal"]}
        before = {name: proc_figures(pid) for name, pid in pids.items()}
        started = time.monotonic()
        concurrency = int(os.environ.get("BENCH_SLA_CONCURRENCY", "8"))
        start_seconds = asyncio.run(start_all(stack.temporal_address, pinned, count, concurrency))
        log.info("started %d tickets in %.0f s", count, start_seconds)
        late = wait_for_firings(
            stack.db_url, count, started + start_seconds + due_minutes * 60 + 600
        )
        wall = time.monotonic() - started
        after = {name: proc_figures(pid) for name, pid in pids.items()}
        cache = os.environ.get("TEMPODESK_WORKER_CACHED_WORKFLOWS", "default (settings)")
        return {
            "timers": count,
            "fired": len(late),
            "due_after_opening_minutes": due_minutes,
            "worker_cached_workflows": cache,
            "start_seconds": round(start_seconds, 1),
            "starts_per_second": round(count / start_seconds, 1) if start_seconds else None,
            "start_concurrency": concurrency,
            "lateness_seconds": {
                "p50": round(percentile(late, 0.50), 3),
                "p99": round(percentile(late, 0.99), 3),
                "max": round(max(late), 3) if late else None,
                "mean": round(statistics.fmean(late), 3) if late else None,
                "median_by_tenth_of_due_order": by_tenth(late),
            },
            "wall_seconds": round(wall, 1),
            "processes": {
                name: {
                    "cpu_seconds": round(after[name].get("cpu_s", 0) - before[name]["cpu_s"], 1),
                    "cpu_share_of_wall": round(
                        (after[name].get("cpu_s", 0) - before[name]["cpu_s"]) / wall, 2
                    ),
                    "rss_mb": round(after[name].get("rss_mb", 0), 1),
                    "peak_rss_mb": round(after[name].get("peak_mb", 0), 1),
                }
                for name in pids
            },
            "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg(),
        }


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    count = int(os.environ.get("BENCH_SLA_COUNT", "10000"))
    due_minutes = int(os.environ.get("BENCH_SLA_DUE", "3"))
    print(json.dumps(run(count, due_minutes), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
