"""The operations page (admins): what is stuck or failing, with retry where it is safe and
links into the Temporal UI for the rest.

- **Readiness**: the database, Temporal, each mailbox and SMTP server (``web.health``).
- **Activities Temporal is retrying**: the pending activities (attempt > 1, or with a last
  failure) of every mailbox workflow, running migrations and webhook workflows, and the ticket
  workflows with
  a mail still queued (at most ``TICKETS_ASKED``, newest first). Temporal's
  visibility cannot search pending activities, so the page asks the workflows that can have
  them (described ``DESCRIBE_CONCURRENCY`` at a time); a ticket whose only trouble is
  elsewhere shows under failed workflows or in the Temporal UI. Temporal already retries
  these with backoff; the page says why and when next, and links to the history.
- **Failed workflows** of the last ``FAILED_DAYS`` days (failed, timed out, terminated).
- **Failed starts** (accepted tickets whose opening failed): retry one or all, as
  ``tempodesk pending retry`` does.
- **The mail quarantine** (the newest, each with reprocess; the quarantine page has them all
  and releases), SMTP servers refusing us, and webhooks disabled after repeated failures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from statemachines import STATE_CATEGORIES
from tempodesk.contracts import (
    MAILBOX_WORKFLOW,
    MIGRATION_WORKFLOW,
    TICKET_WORKFLOW,
    WEBHOOK_WORKFLOW,
)
from tempodesk.core.ids import mailbox_workflow_id, ticket_workflow_id
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.core.temporal_ops import FailedWorkflow, StuckActivity
from tempodesk.mail import admin as mail_admin
from tempodesk.mail import mailboxes
from tempodesk.tickets import health, pending
from tempodesk.webhooks import subscriptions
from web import audit, db, release_db, runtime
from web.admin import bp
from web.health import readiness
from web.i18n import gettext as _

#: A mail queued this long makes its ticket a candidate (0: any; only failing ones show).
QUEUED_FOR = timedelta(0)
TICKETS_ASKED = 50
MIGRATIONS_ASKED = 20
FAILED_DAYS = 7
FAILED_SHOWN = 50
QUARANTINE_SHOWN = 10


def temporal_links() -> list[tuple[str, str]]:
    """Ready-made visibility queries for the Temporal UI: (label, URL)."""
    settings = runtime().settings
    running = f'WorkflowType="{TICKET_WORKFLOW}" AND ExecutionStatus="Running"'
    links = [
        (_("Open tickets"), running),
        (_("Open tickets without an assignee"), f"{running} AND Assignee IS NULL"),
        (_("Open tickets with a breached SLA"), f"{running} AND SlaBreached=true"),
        (_("Mailbox workflows"), f'WorkflowType="{MAILBOX_WORKFLOW}"'),
        (_("Process migrations"), f'WorkflowType="{MIGRATION_WORKFLOW}"'),
        (_("Webhook deliveries"), f'WorkflowType="{WEBHOOK_WORKFLOW}"'),
        (_("Failed workflows"), 'ExecutionStatus="Failed"'),
    ]
    links += [
        (
            _("Tickets in category %(category)s", category=c),
            f'{running} AND TicketStateCategory="{c}"',
        )
        for c in STATE_CATEGORIES
        if c not in ("closed", "merged")
    ]
    return [(label, settings.workflows_query_url(query)) for label, query in links]


def _from_temporal(
    ticket_ids: list[str], mailbox_ids: list[str]
) -> tuple[list[StuckActivity], list[FailedWorkflow], str]:
    """What Temporal says (the database connection given back while it answers)."""
    since = datetime.now(UTC) - timedelta(days=FAILED_DAYS)

    async def ask(temporal: Any) -> tuple[list[StuckActivity], list[FailedWorkflow]]:
        migrations = await temporal.running(MIGRATION_WORKFLOW, MIGRATIONS_ASKED)
        webhooks = await temporal.running(WEBHOOK_WORKFLOW, MIGRATIONS_ASKED)
        ids = [*mailbox_ids, *migrations, *webhooks, *ticket_ids]
        stuck = await temporal.stuck_activities(ids)
        return stuck, await temporal.failed(since, FAILED_SHOWN)

    release_db()
    try:
        stuck, failed = runtime().temporal.run(ask)
    except EngineUnavailable as exc:
        return [], [], str(exc)
    return stuck, failed, ""


@bp.route("/ops")
def ops() -> Any:
    status, details = readiness()
    session = db()
    numbers = health.tickets_with_queued_mail(session, QUEUED_FOR, TICKETS_ASKED)
    boxes = [mailbox_workflow_id(name) for name in mailboxes.pollable(session)]
    starts = health.failed_starts(session)
    alerts = health.smtp_alerts(session)
    quarantined = mail_admin.inbound_page(session, status="quarantined", limit=QUARANTINE_SHOWN)
    disabled = [h for h in subscriptions.all_subscriptions(session) if not h.enabled]
    stuck, failed, temporal_error = _from_temporal([ticket_workflow_id(n) for n in numbers], boxes)
    return render_template(
        "admin/ops.html",
        status=status,
        details=details,
        stuck=stuck,
        failed=failed,
        temporal_error=temporal_error,
        starts=starts,
        alerts=alerts,
        quarantined=quarantined,
        disabled_webhooks=disabled,
        links=temporal_links(),
        workflow_url=runtime().settings.workflow_url,
        failed_days=FAILED_DAYS,
    )


@bp.route("/ops/pending/retry", methods=["POST"])
def ops_retry_pending() -> Any:
    """Try failed starts again at the worker's next round: one ticket, or every one."""
    number = request.form.get("number", "").strip() or None
    count = pending.retry(runtime().sessions, number)
    audit.record(
        "pending.retry", object_type="ticket", object_id=number or "*", after={"count": count}
    )
    db().commit()
    flash(_("%(count)s start(s) will be tried again.", count=count), "success")
    return redirect(url_for("admin.ops"))
