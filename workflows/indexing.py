"""A ticket's search attributes: what the Temporal UI and ``temporal workflow list`` filter
by (state, assignee, group, priority, customer, process). Only the ticket's workflow sets
them; the starter sets none."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        SA_ASSIGNEE,
        SA_CUSTOMER_EMAIL,
        SA_GROUP,
        SA_NUMBER,
        SA_PRIORITY,
        SA_PROCESS,
        SA_SLA_BREACHED,
        SA_SLA_DUE_AT,
        SA_STATE,
        SA_STATE_CATEGORY,
        TICKET_SEARCH_ATTRIBUTES,
        TicketSnapshot,
    )
    from tempodesk.sla.clocks import SlaClocks


#: The patch of the one-step opening: since it, the workflow indexes the ticket's number and
#: customer too (before, the starter set those two, once; those histories replay so).
ONE_STEP_OPEN_PATCH = "one-step-open"


class SearchIndex:
    """What was last upserted, so an upsert carries only what changed."""

    def __init__(self) -> None:
        self._indexed: dict[str, Any] = {}

    def upsert(self, ticket: TicketSnapshot) -> None:
        breached, due_at = SlaClocks(ticket.sla).index()  # None, None: no policy (unset)
        wanted: dict[str, Any] = {
            SA_SLA_BREACHED.name: breached,
            SA_SLA_DUE_AT.name: due_at,
            SA_NUMBER.name: ticket.number,
            SA_STATE.name: ticket.state,
            SA_STATE_CATEGORY.name: ticket.state_category,
            SA_ASSIGNEE.name: ticket.assignee,
            SA_GROUP.name: ticket.group,
            SA_PRIORITY.name: ticket.priority,
            SA_CUSTOMER_EMAIL.name: ticket.customer_email or "-",
            SA_PROCESS.name: f"{ticket.process_name}:{ticket.process_version}",
        }
        if not self._indexed:
            current = workflow.info().typed_search_attributes
            for key in TICKET_SEARCH_ATTRIBUTES:
                self._indexed[key.name] = current.get(key)
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in TICKET_SEARCH_ATTRIBUTES:
            value = wanted[key.name]
            if self._indexed.get(key.name) == value:
                continue
            if key in (SA_NUMBER, SA_CUSTOMER_EMAIL) and not workflow.patched(ONE_STEP_OPEN_PATCH):
                continue
            self._indexed[key.name] = value
            updates.append(key.value_unset() if value is None else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)
