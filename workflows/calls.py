"""Placing the call a ticket's ``call_customer`` effect queued: one activity on the
telephony queue, keyed by the ticket and the event, so a retry never rings twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import SYSTEM, OutboundMail, TicketSnapshot
    from tempodesk.contracts.calls import StartCallInput, StartCallResult, call_key
    from tempodesk.contracts.names import ACT_START_CALL, TELEPHONY_TASK_QUEUE

# A click-to-call is worth something for minutes, not days: the PBX away longer than that,
# the ticket says the call failed and the agent presses Call again.
CALL_START_TO_CLOSE = timedelta(seconds=60)
CALL_SCHEDULE_TO_CLOSE = timedelta(minutes=10)
CALL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


async def place_call(mail: OutboundMail, ticket: TicketSnapshot) -> tuple[str, dict[str, Any]]:
    """Start the call; what the timeline records about it (kind, data)."""
    # The system (a state's timeout) calls back through the assignee's phone.
    agent = (ticket.assignee or "") if mail.author == SYSTEM.username else mail.author
    key = call_key(ticket.number, mail.event_seq)
    request = StartCallInput(
        call_key=key, agent=agent, ticket_number=ticket.number, contact_id=ticket.contact_id
    )
    try:
        result: StartCallResult = await workflow.execute_activity(
            ACT_START_CALL,
            request,
            result_type=StartCallResult,
            task_queue=TELEPHONY_TASK_QUEUE,
            start_to_close_timeout=CALL_START_TO_CLOSE,
            schedule_to_close_timeout=CALL_SCHEDULE_TO_CLOSE,
            retry_policy=CALL_RETRY,
        )
    except ActivityError as exc:
        cause = exc.cause
        detail = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
        return "call_failed", {"call_key": key, "agent": agent, "detail": detail[:500]}
    kind = "call_failed" if result.status == "failed" else "call_started"
    return kind, {"call_key": key, "agent": agent, "status": result.status, "detail": result.detail}
