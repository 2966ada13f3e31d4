"""What one ticket costs the database and the engine: transactions and history events.

Run after the timed scenarios, one client, one operation after another, so nothing else is
counted: ``tickets`` new tickets through the API, then one ``set_priority`` on each.

- **Database transactions** are PostgreSQL's own counters for the benchmark's database
  (``pg_stat_database.xact_commit`` / ``xact_rollback``: a session that only read ends in a
  rollback, one that wrote in a commit), read before and after. A backend reports its
  counters at most ~10 s after it went idle, so the probe waits for that on both sides.
- **History events** are counted on each ticket's workflow history: after creation (the
  workflow waiting for its next message), the growth caused by one action, and by a second
  (a patch's marker is written once per run, by the first action that passes it).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from temporalio.client import Client

from benchmarks.load import ApiClient
from tempodesk.core.ids import ticket_workflow_id

#: PostgreSQL flushes an idle backend's statistics after PGSTAT_IDLE_INTERVAL (10 s).
STATS_SETTLE_S = 11.0


def _xacts(db_url: str) -> tuple[int, int]:
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(db_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        row = c.execute(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _settled_xacts(db_url: str) -> tuple[int, int]:
    time.sleep(STATS_SETTLE_S)
    return _xacts(db_url)


def _per(after: tuple[int, int], before: tuple[int, int], n: int, own: int) -> dict[str, float]:
    """Per operation, without the probe's own connections (one commit each, autocommit)."""
    commits = after[0] - before[0] - own
    rollbacks = after[1] - before[1]
    return {
        "commits": round(commits / n, 2),
        "rollbacks": round(rollbacks / n, 2),
        "total": round((commits + rollbacks) / n, 2),
    }


async def _history_lengths(address: str, namespace: str, numbers: list[str]) -> list[int]:
    client = await Client.connect(address, namespace=namespace)
    lengths = []
    for number in numbers:
        history = await client.get_workflow_handle(ticket_workflow_id(number)).fetch_history()
        lengths.append(len(history.events))
    return lengths


def probe(
    *,
    client: Callable[[], ApiClient],
    db_url: str | None,
    temporal_address: str,
    namespace: str,
    tickets: int = 20,
) -> dict[str, Any]:
    """Transactions and history events per created ticket and per action."""
    api = client()
    result: dict[str, Any] = {"tickets": tickets}
    numbers: list[str] = []
    before = _settled_xacts(db_url) if db_url else None
    api.reset()  # idle through the settling: gunicorn closed the keep-alive (BrokenPipeError)
    for index in range(tickets):
        created = api.expect(
            201,
            "POST",
            "/api/v1/tickets",
            {
                "subject": f"Cost probe {index}",
                "body": "How much does one ticket cost?",
                "customer": {"email": f"probe{index % 5}@bench.example"},
                "idempotency_key": f"probe-{uuid.uuid4().hex}",
            },
        )
        numbers.append(created["number"])
    if db_url and before is not None:
        # The probe's read of the counters before is one (autocommit) transaction.
        result["transactions_per_ticket"] = _per(_settled_xacts(db_url), before, tickets, 1)
    created_events = asyncio.run(_history_lengths(temporal_address, namespace, numbers))
    result["history_events_per_ticket"] = round(sum(created_events) / tickets, 2)
    before = _xacts(db_url) if db_url else None
    # The connection idled through the settling: a server closes idle keep-alive connections
    # (gunicorn after 2 s), so start a fresh one.
    api.reset()
    for number in numbers:
        api.expect(
            200,
            "POST",
            f"/api/v1/tickets/{number}/actions/set_priority",
            {"fields": {"priority": 3}},
        )
    if db_url and before is not None:
        result["transactions_per_action"] = _per(_settled_xacts(db_url), before, tickets, 1)
    after_events = asyncio.run(_history_lengths(temporal_address, namespace, numbers))
    result["history_events_per_action"] = round(
        (sum(after_events) - sum(created_events)) / tickets, 2
    )
    # A run's first use of a patch costs a marker and a search-attribute upsert once: the
    # second action on each ticket shows what every later one costs.
    api.reset()
    for number in numbers:
        api.expect(
            200,
            "POST",
            f"/api/v1/tickets/{number}/actions/set_priority",
            {"fields": {"priority": 4}},
        )
    later_events = asyncio.run(_history_lengths(temporal_address, namespace, numbers))
    result["history_events_per_later_action"] = round(
        (sum(later_events) - sum(after_events)) / tickets, 2
    )
    return result
