"""The database steps of a ticket's opening and projection, as local activities.

Database steps are short and must eventually succeed: they retry without limit, gently.
Tickets opened before the one-step opening replay its three steps (``open_in_three_steps``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        ACT_CHOOSE_ASSIGNEE,
        ACT_LINK_CUSTOMER,
        ACT_OPEN_TICKET,
        ACT_PROJECT,
        ACT_PROJECT_ACTION,
        ActionProjectionInput,
        AssignmentInput,
        AssignmentResult,
        LinkCustomerInput,
        LinkCustomerResult,
        OpenTicketInput,
        OpenTicketResult,
        ProjectionInput,
        SelectSlaInput,
        SelectSlaResult,
        TicketStartInput,
    )
    from tempodesk.core.ids import form_channel

LOCAL_TIMEOUT = timedelta(seconds=15)
LOCAL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


async def open_in_one_step(
    input: TicketStartInput, created: ProjectionInput, sla_paused: bool = False
) -> OpenTicketResult:
    """Link the customer and the order, choose the assignee and the SLA policy and project
    the new ticket: one local activity, one database transaction."""
    result: OpenTicketResult = await workflow.execute_local_activity(
        ACT_OPEN_TICKET,
        OpenTicketInput(
            created=created,
            customer=input.customer,
            order_number=input.order_number,
            create_contact=input.create_contact,
            assignment_channel=input.mailbox
            or (form_channel(input.form) if input.form else input.channel),
            sla_paused=sla_paused,
        ),
        result_type=OpenTicketResult,
        start_to_close_timeout=LOCAL_TIMEOUT,
        retry_policy=LOCAL_RETRY,
    )
    return result


async def open_in_three_steps(input: TicketStartInput) -> tuple[OpenTicketResult, dict[str, Any]]:
    """How tickets opened before the one-step opening: replayed, never chosen for new ones.
    The link and the assignment, and the data of the ticket's "created" event."""
    link: LinkCustomerResult = await workflow.execute_local_activity(
        ACT_LINK_CUSTOMER,
        LinkCustomerInput(input.number, input.customer, input.order_number, input.create_contact),
        result_type=LinkCustomerResult,
        start_to_close_timeout=LOCAL_TIMEOUT,
        retry_policy=LOCAL_RETRY,
    )
    assignment: AssignmentResult = await workflow.execute_local_activity(
        ACT_CHOOSE_ASSIGNEE,
        AssignmentInput(input.number, input.mailbox or input.channel, link.contact_id),
        result_type=AssignmentResult,
        start_to_close_timeout=LOCAL_TIMEOUT,
        retry_policy=LOCAL_RETRY,
    )
    data: dict[str, Any] = {"assignment": assignment.reason, "channel": input.channel}
    if link.order_note:
        data["order_note"] = link.order_note
    return OpenTicketResult(link, assignment), data


async def project(projection: ProjectionInput) -> None:
    """Write the snapshot and the new events to the database."""
    await workflow.execute_local_activity(
        ACT_PROJECT,
        projection,
        start_to_close_timeout=LOCAL_TIMEOUT,
        retry_policy=LOCAL_RETRY,
    )


async def project_action(projection: ProjectionInput, select: SelectSlaInput) -> SelectSlaResult:
    """Write an action's snapshot and events and choose its SLA policy again: one local
    activity, one transaction (before, ``select_sla`` and then ``project``)."""
    result: SelectSlaResult = await workflow.execute_local_activity(
        ACT_PROJECT_ACTION,
        ActionProjectionInput(projection, select),
        result_type=SelectSlaResult,
        start_to_close_timeout=LOCAL_TIMEOUT,
        retry_policy=LOCAL_RETRY,
    )
    return result
