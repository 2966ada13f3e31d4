"""A customer's mail that reaches a closed ticket whose run is still sending its last mail.

The mailbox's closed-ticket policy (decided when the mail was routed, carried in the
message) applies as it would had the run already ended: "reopen" reopens the ticket in this
run; "new" makes the mail a new ticket (accepted through intake by a local activity, then
started here, outliving this run) and the closed ticket records where it went.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        ACT_REDIRECT,
        TICKET_TASK_QUEUE,
        TICKET_WORKFLOW,
        RedirectResult,
        RestartInput,
    )
    from tempodesk.core.ids import ticket_workflow_id

REDIRECT_TIMEOUT = timedelta(seconds=15)
REDIRECT_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


async def redirect(number: str, message_id: int) -> str:
    """Make the message a new ticket and start it; the new ticket's number."""
    found: RedirectResult = await workflow.execute_local_activity(
        ACT_REDIRECT,
        RestartInput(number, message_id),
        result_type=RedirectResult,
        start_to_close_timeout=REDIRECT_TIMEOUT,
        retry_policy=REDIRECT_RETRY,
    )
    start = found.start
    if start is None:
        return found.number
    try:
        await workflow.start_child_workflow(
            TICKET_WORKFLOW,
            start,
            id=ticket_workflow_id(start.number),
            task_queue=TICKET_TASK_QUEUE,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"{start.number}: {start.subject[:150]}",
        )
    except WorkflowAlreadyStartedError:
        pass  # started by an earlier attempt, or by the worker's loop over pending starts
    except FailureError as exc:  # its pending start stays: the worker's loop starts it
        workflow.logger.warning("could not start %s: %s", start.number, exc)
    return found.number
