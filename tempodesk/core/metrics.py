"""Prometheus metrics: every metric Tempodesk itself exports, in one place (prometheus-client).

Counters are counted by the process whose code did the thing (the web counts what its
requests did, the worker what its activities did), so each process's ``/metrics`` shows its
own share; Prometheus adds them up across processes. Gauges that are facts about the
database (quarantine size, pending starts) are read when scraped (``DatabaseCollector``),
so they are right whichever process answers.

The worker's ``/metrics`` also carries the Temporal SDK's own runtime metrics
(``temporal_*``: workflow and activity task latencies, slots, polls, failures); see
``tempodesk.app.worker``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

#: The registry of our metrics (not prometheus-client's global one, so tests and processes
#: that build several apps do not register twice).
REGISTRY = CollectorRegistry(auto_describe=True)

TICKETS_CREATED = Counter(
    "tempodesk_tickets_created",
    "Tickets created, by channel (counted where the request was accepted).",
    ["channel"],
    registry=REGISTRY,
)
TICKETS_OPENED = Counter(
    "tempodesk_tickets_opened",
    "Tickets opened by their workflow's opening step (the worker).",
    registry=REGISTRY,
)
ACTIONS = Counter(
    "tempodesk_actions",
    "Actions asked of tickets, by action name and outcome (done, rejected, unavailable).",
    ["action", "outcome"],
    registry=REGISTRY,
)
MAILS_IN = Counter(
    "tempodesk_mails_in",
    "Inbound mails routed, by outcome (ticket, follow_up, ignored, quarantined).",
    ["outcome"],
    registry=REGISTRY,
)
MAILS_OUT = Counter(
    "tempodesk_mails_out",
    "Outbound mails, by outcome (sent, failed: refused for good, retry: will be tried again).",
    ["outcome"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "tempodesk_http_request_duration_seconds",
    "Web request latency, by endpoint (the Flask route's name) and status class.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: ``read()`` returns name → value."""

    def __init__(self, read: Callable[[], dict[str, float]]):
        self.read = read

    def collect(self) -> Iterator[Any]:
        try:
            values = self.read()
        except Exception:  # the database is away: /readyz says so; no gauges this scrape
            return
        for name, help_text in GAUGES.items():
            key = name.removeprefix(PREFIX)
            if key in values:
                yield GaugeMetricFamily(name, help_text, value=values[key])


#: Gauges a DatabaseCollector reports (name → help); ``read()`` keys them without the prefix.
GAUGES = {
    "tempodesk_quarantined_mail": "Inbound mails in quarantine now.",
    "tempodesk_pending_starts": "Accepted tickets whose workflow has not confirmed them yet.",
    "tempodesk_dead_letter_starts": "Accepted tickets whose opening failed too often.",
    "tempodesk_failing_mailboxes": "Enabled mailboxes whose last poll failed.",
    "tempodesk_failing_smtp_servers": "SMTP servers refusing us now.",
    "tempodesk_sla_breached_tickets": "Tickets not closed whose SLA is breached.",
}
PREFIX = "tempodesk_"


def exposition(extra: Collector | None = None) -> bytes:
    """Our metrics in the Prometheus text format (with ``extra``'s, collected once)."""
    if extra is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    registry.register(extra)
    return generate_latest(REGISTRY) + generate_latest(registry)
