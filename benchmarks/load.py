"""Load generation and statistics: HTTP client threads, asyncio client tasks, CPU accounting.

Every scenario is ``total`` operations shared by ``clients`` concurrent clients, each doing one
operation after another (closed loop, no think time). A client takes the next operation index
from a shared counter, so a slow client never holds the others back at the end.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_ERROR_SAMPLES = 5


@dataclass
class Outcome:
    """Latencies (seconds) of the operations that succeeded, and what went wrong."""

    latencies: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)  # steps of one operation
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies)
        n = len(values)
        result: dict[str, Any] = {
            "throughput_per_s": round(n / self.wall_s, 2) if self.wall_s > 0 else None,
            "p50_ms": _ms(percentile(values, 50)),
            "p99_ms": _ms(percentile(values, 99)),
            "mean_ms": _ms(sum(values) / n if n else None),
            "max_ms": _ms(values[-1] if n else None),
            "n": n,
            "errors": len(self.errors),
            "wall_s": round(self.wall_s, 3),
        }
        if self.parts:
            result["steps_p50_ms"] = {
                name: _ms(percentile(sorted(values), 50)) for name, values in self.parts.items()
            }
        if self.errors:
            result["error_samples"] = self.errors[:MAX_ERROR_SAMPLES]
        if self.cpu:
            result["cpu"] = self.cpu
            if n:
                # CPU per operation and part of the stack: where a ticket's cost goes.
                result["cpu_ms_per_op"] = {
                    name.removesuffix("_s"): round(1000 * seconds / n, 1)
                    for name, seconds in self.cpu.items()
                    if name.endswith("_s")
                }
        return result


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile of sorted ``values``, interpolated linearly (numpy's default)."""
    if not values:
        return None
    rank = (len(values) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


# ---------------------------------------------------------------------------- HTTP clients


class ApiError(Exception):
    pass


@dataclass
class Slot:
    """Which of the ``clients`` concurrent clients this is, and how many operations it did.

    Scenarios use it to give each client its own tickets, so no two clients queue up behind
    the same workflow's lock.
    """

    number: int = 0
    clients: int = 1
    done: int = 0

    def pick(self, pool_size: int) -> int:
        """An index into a pool shared by all clients, never one another client uses now."""
        per_client = max(pool_size // self.clients, 1)
        return (self.number + self.clients * (self.done % per_client)) % pool_size


class ApiClient:
    """One persistent HTTP/1.1 connection with a bearer token, as an integration would hold."""

    def __init__(self, host: str, port: int, token: str, timeout: float = 60.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.slot = Slot()
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect(self) -> None:
        self.conn.connect()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (http.client.HTTPException, OSError):
            self.reset()
            raise
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw[:200].decode(errors="replace")
        return response.status, payload

    def expect(self, status: int, method: str, path: str, body: Any = None) -> Any:
        got, payload = self.call(method, path, body)
        if got != status:
            raise ApiError(f"{method} {path} -> {got}: {str(payload)[:300]}")
        return payload

    def reset(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def close(self) -> None:
        self.conn.close()


def run_threads(
    clients: int,
    total: int,
    make_client: Callable[[], ApiClient],
    op: Callable[[ApiClient, int], dict[str, float] | None],
    *,
    start_timeout: float = 60.0,
) -> Outcome:
    """``total`` calls of ``op`` by ``clients`` threads, each with its own connection.

    ``op`` may return the durations of its steps (name -> seconds), reported as medians.
    """
    counter = itertools.count()
    barrier = threading.Barrier(clients + 1)
    abort = threading.Event()
    outcome = Outcome()
    ends: list[float] = []
    max_errors = max(10, total // 10)

    def body(number: int) -> None:
        client = make_client()
        client.slot = Slot(number, clients)
        try:
            client.connect()
            barrier.wait(start_timeout)
            while not abort.is_set():
                index = next(counter)
                if index >= total:
                    break
                started = time.perf_counter()
                try:
                    steps = op(client, index)
                except Exception as exc:
                    outcome.errors.append(f"{type(exc).__name__}: {exc}")
                    if len(outcome.errors) >= max_errors:
                        abort.set()
                    client.reset()
                    continue
                outcome.latencies.append(time.perf_counter() - started)
                client.slot.done += 1
                for name, seconds in (steps or {}).items():
                    outcome.parts.setdefault(name, []).append(seconds)
        except threading.BrokenBarrierError:
            return
        except Exception as exc:
            outcome.errors.append(f"client setup: {type(exc).__name__}: {exc}")
            barrier.abort()
        finally:
            ends.append(time.perf_counter())
            client.close()

    threads = [
        threading.Thread(target=body, args=(i,), name=f"client-{i}", daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        barrier.wait(start_timeout)
        started = time.perf_counter()
        for thread in threads:
            thread.join()
    except threading.BrokenBarrierError:
        started = time.perf_counter()
    except BaseException:
        abort.set()
        raise
    outcome.wall_s = max(ends, default=started) - started
    return outcome


async def run_tasks(
    clients: int, total: int, op: Callable[[int, Slot], Awaitable[None]]
) -> Outcome:
    """``total`` awaits of ``op`` by ``clients`` asyncio tasks sharing one Temporal client."""
    counter = itertools.count()
    outcome = Outcome()
    max_errors = max(10, total // 10)

    async def body(slot: Slot) -> None:
        while len(outcome.errors) < max_errors:
            index = next(counter)
            if index >= total:
                return
            started = time.perf_counter()
            try:
                await op(index, slot)
            except Exception as exc:
                outcome.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            outcome.latencies.append(time.perf_counter() - started)
            slot.done += 1

    started = time.perf_counter()
    await asyncio.gather(*(body(Slot(i, clients)) for i in range(clients)))
    outcome.wall_s = time.perf_counter() - started
    return outcome


# ---------------------------------------------------------------------------- CPU accounting

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(pid: int | str) -> float | None:
    """user + system CPU seconds of one process, from /proc (Linux only)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children() -> dict[int, list[int]]:
    """Every process's children (parent pid -> pids), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _descendants(pid: int, children: dict[int, list[int]]) -> list[int]:
    found: list[int] = []
    waiting = list(children.get(pid, []))
    while waiting:
        child = waiting.pop()
        found.append(child)
        waiting.extend(children.get(child, []))
    return found


def _postgres_pids(database: str) -> list[int]:
    """The server's own processes (WAL writer, checkpointer, ...) and our database's backends.

    Backends of other databases (someone else's tests on this machine) are left out.
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        is_backend = "(" in cmdline or "[local]" in cmdline
        if not is_backend or f" {database} " in cmdline:
            pids.append(int(entry.name))
    return pids


def _machine_cpu() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot."""
    try:
        line = Path("/proc/stat").read_text().splitlines()[0]
    except OSError:
        return None
    values = [int(v) for v in line.split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


@dataclass
class CpuSample:
    parts: dict[str, dict[int, float]]
    machine: tuple[float, float] | None


class CpuMeter:
    """CPU seconds spent by each part of the stack during a scenario (Linux /proc).

    ``other_processes`` is whatever else kept the machine busy meanwhile: it should be near
    zero on a quiet machine.
    """

    def __init__(self, pids: dict[str, int], *, postgres_database: str | None):
        self.pids = {"bench_process": os.getpid(), **pids}
        self.postgres_database = postgres_database

    def sample(self) -> CpuSample:
        parts: dict[str, dict[int, float]] = {}
        children = _children()
        for name, pid in self.pids.items():
            # A process and everything it started (gunicorn's workers under its master).
            tree = [pid, *_descendants(pid, children)] if name != "bench_process" else [pid]
            values = {p: value for p in tree if (value := _process_cpu(p)) is not None}
            if values:  # "worker+2": a second worker process, counted as the worker's
                parts.setdefault(name.partition("+")[0], {}).update(values)
        if self.postgres_database:
            parts["postgres"] = {
                pid: value
                for pid in _postgres_pids(self.postgres_database)
                if (value := _process_cpu(pid)) is not None
            }
        return CpuSample(parts, _machine_cpu())

    @staticmethod
    def spent(before: CpuSample, after: CpuSample) -> dict[str, float]:
        result: dict[str, float] = {}
        ours = 0.0
        for name, values in after.parts.items():
            earlier = before.parts.get(name, {})
            # A process that started meanwhile counts whole; one that ended is lost.
            seconds = sum(value - earlier.get(pid, 0.0) for pid, value in values.items())
            ours += seconds
            result[f"{name}_s"] = round(seconds, 2)
        if before.machine is not None and after.machine is not None:
            busy = after.machine[0] - before.machine[0]
            total = after.machine[1] - before.machine[1]
            result["other_processes_s"] = round(max(busy - ours, 0.0), 2)
            if total > 0:
                result["machine_busy_pct"] = round(100 * busy / total, 1)
        return result
