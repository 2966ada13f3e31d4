"""Health and metrics: ``/healthz`` (liveness), ``/readyz`` (readiness with the details for
ops), ``/metrics`` (Prometheus), and the request latency histogram.

- ``/healthz`` answers 200 ``{"status": "ok"}`` while the process serves requests; it asks
  nothing else (a load balancer restarts a process that does not answer, not one whose
  database is away).
- ``/readyz`` asks the database, Temporal, each mailbox and the SMTP servers: 200 when the
  database and Temporal answer (``ok``, or ``degraded`` when a mailbox, an SMTP server or a
  dead-lettered start needs a look), 503 ``unavailable`` otherwise. Anyone gets the status;
  the checks, counts and error texts (hosts, user names, server replies) only a caller that
  ``may_see_details``.
- ``/metrics``: ``tempodesk.core.metrics`` in the Prometheus text format, for the same
  callers only (403 for others).
"""

from __future__ import annotations

import ipaddress
import time
from contextlib import suppress
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_login import current_user
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tempodesk.core import metrics
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.people import accounts
from tempodesk.tickets import health
from web import db, runtime

#: The token scope that may read the details and the metrics (``create-token --scope ops``).
OPS_SCOPE = "ops"


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.add_url_rule("/metrics", "metrics", metrics_page)
    app.before_request(_started)
    app.after_request(_observed)


def _started() -> None:
    g.request_started = time.perf_counter()


def _observed(response: Response) -> Response:
    started = g.get("request_started")
    if started is not None:
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        metrics.REQUEST_SECONDS.labels(
            endpoint, request.method, f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
    return response


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def may_see_details() -> bool:
    """From this machine (loopback), a signed-in admin, or a token with the ``ops`` scope.

    Behind a reverse proxy on the same machine every request comes from loopback: make the
    proxy's client address the peer (e.g. Werkzeug's ``ProxyFix``) or keep /readyz and
    /metrics off the public side (README, Operations)."""
    if is_loopback(request.remote_addr):
        return True
    if current_user.is_authenticated and current_user.is_admin:
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return (
        scheme.lower() == "bearer"
        and bool(token)
        and accounts.user_for_token(db(), token, OPS_SCOPE) is not None
    )


def healthz() -> Any:
    """Liveness: the process answers. No details, no dependency asked."""
    return jsonify({"status": "ok"})


def _database() -> health.Health | None:
    try:
        return health.read(db())
    except (OperationalError, InternalError, PoolTimeout):
        session = g.pop("db", None)
        if session is not None:
            with suppress(Exception):
                session.close()
        return None


def _temporal() -> bool:
    try:
        runtime().temporal.ping()
    except EngineUnavailable:
        return False
    return True


def readiness() -> tuple[str, dict[str, Any]]:
    """The status and, for ops, the details (checks, counts, each failing thing's error)."""
    found = _database()
    temporal_ok = _temporal()
    checks: dict[str, Any] = {
        "database": "ok" if found is not None else "unavailable",
        "temporal": "ok" if temporal_ok else "unavailable",
    }
    details: dict[str, Any] = {"checks": checks}
    if found is None or not temporal_ok:
        status = "unavailable"
    else:
        status = "degraded" if found.troubled else "ok"
    if found is not None:
        alerts = {a.server: a.error for a in health.smtp_alerts(db())}
        checks["mailboxes"] = {
            name: "failing" if name in found.mailbox_errors else "ok" for name in found.mailboxes
        }
        checks["smtp"] = {server: "failing" for server in alerts}
        details.update(
            quarantined_mail=found.quarantined_mail,
            pending_starts=found.pending_starts,
            dead_letter_starts=found.dead_letter_starts,
            failing_smtp_servers=found.failing_smtp_servers,
            sla_breached_tickets=found.sla_breached,
            mailbox_errors=found.mailbox_errors,
            smtp_errors=alerts,
        )
    return status, details


def readyz() -> Any:
    status, details = readiness()
    body: dict[str, Any] = {"status": status}
    if may_see_details():
        body.update(details)
    return jsonify(body), 503 if status == "unavailable" else 200


def _gauges() -> dict[str, float]:
    with runtime().sessions() as session:
        return health.read(session).counts()


def metrics_page() -> Any:
    if not may_see_details():
        return jsonify({"error": {"code": "forbidden", "message": "Not for you."}}), 403
    body = metrics.exposition(metrics.DatabaseCollector(_gauges))
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")
