"""Routing in the ticket's workflow: the ``reroute`` Update (bulk re-routing from a list) and
the group's timeout without action, a durable timer: when routing assigned the ticket and no
agent acted within the group's ``reroute_minutes``, the ticket is unassigned and routed
again (rules, then the strategy, never the same agent if anyone else can take it).

The decision is the local activity ``route_ticket`` (one transaction, like the opening's);
the workflow records it ("rerouted", with the reasons) and projects. Tickets whose histories
predate this never armed the timer (``REROUTE_PATCH``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        ACT_ROUTE_TICKET,
        RerouteInput,
        RerouteResult,
        RouteTicketInput,
        RouteTicketResult,
        TicketSnapshot,
    )
    from workflows import sla
    from workflows.opening import LOCAL_RETRY, LOCAL_TIMEOUT
    from workflows.ticket_core import TicketCore

REROUTE_PATCH = "reroute-timeout"


def arm(t: TicketSnapshot, minutes: int) -> None:
    """Routing just assigned the ticket: unless an agent acts within ``minutes``, route it
    again (0 or nobody assigned: no timer)."""
    if minutes <= 0 or not t.assignee or not workflow.patched(REROUTE_PATCH):
        t.reroute_due = ""
        return
    t.reroute_due = (workflow.now() + timedelta(minutes=minutes)).isoformat()


def time_left(t: TicketSnapshot) -> timedelta | None:
    """Until the re-routing timeout (None: none armed)."""
    if not t.reroute_due:
        return None
    return max(datetime.fromisoformat(t.reroute_due) - workflow.now(), timedelta(milliseconds=1))


class TicketRouting(TicketCore):
    @workflow.update
    async def reroute(self, input: RerouteInput) -> RerouteResult:
        """Route the ticket again now (an agent's bulk re-routing)."""
        async with self._lock:
            return await self._reroute(input)

    @reroute.validator
    def _validate_reroute(self, input: RerouteInput) -> None:
        if not self._ready or self._finished:
            raise ApplicationError("This ticket is closed.", type="TicketClosed")

    async def _fire_reroute(self) -> None:
        """The timer rang (lock held): route again if the timeout is really due."""
        due = self._t.reroute_due
        if not due or datetime.fromisoformat(due) > workflow.now() or self._finished:
            return
        await self._reroute(RerouteInput("system", "timeout"), exclude=self._t.assignee or "")

    async def _reroute(self, input: RerouteInput, exclude: str = "") -> RerouteResult:
        result: RouteTicketResult = await workflow.execute_local_activity(
            ACT_ROUTE_TICKET,
            RouteTicketInput(replace(self._t), workflow.now().isoformat(), exclude),
            result_type=RouteTicketResult,
            start_to_close_timeout=LOCAL_TIMEOUT,
            retry_policy=LOCAL_RETRY,
        )
        before = replace(self._t)
        self._t.assignee, self._t.group = result.assignee, result.group
        arm(self._t, result.reroute_minutes)
        data = {
            "reason": input.reason or "rerouted",
            "from_assignee": before.assignee,
            "from_group": before.group,
            "assignee": result.assignee,
            "group": result.group,
            "routing": result.notes,
        }
        seq = self._record("rerouted", actor=input.actor, data=data)
        await sla.reselect(self, "rerouted", when=sla.changed(before, self._t))
        await self._project()
        return RerouteResult(result.assignee, result.group, seq)
