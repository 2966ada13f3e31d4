"""The ticket workflow's service levels: its timer's next moment, what a warning or a breach
does, and choosing the policy again. The clocks' rules are pure (``tempodesk.sla.clocks``);
this module is what needs the workflow (its time, its lock, its actions).

A warning or a breach is a timeline event ("sla_warning", "sla_breached") and runs the
policy's actions: ``notify`` queues a template delivery to the assignee, the group or its
supervisor (the outbox, as ``send_template``); ``escalate`` gives the ticket to a group's
queue; ``raise_priority`` raises it one step; ``perform`` performs a process action as the
system, with the same checks as a state's timeout. What an SLA action changes does not choose
the policy again (a policy that escalates to a group another policy matches would ping-pong).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from statemachines import PRIORITIES, ActionSpec, CompiledProcess, Rejection
    from statemachines.calendar import Calendar, NoBusinessTime
    from statemachines.durations import business_duration
    from tempodesk.contracts import (
        ACT_SELECT_SLA,
        SYSTEM,
        OutboundMail,
        PerformActionInput,
        PerformActionResult,
        SelectSlaInput,
        SelectSlaResult,
        SlaAction,
        TicketSnapshot,
    )
    from tempodesk.sla.clocks import Firing, SlaClocks
    from workflows.opening import LOCAL_RETRY, LOCAL_TIMEOUT

#: Before it: no ticket had SLA clocks (histories replay without the timer or re-selection).
SLA_PATCH = "sla"
#: Before it: an action that might change the policy chose it (``select_sla``), then projected;
#: since it, both in one local activity (``project_action``), projecting again only when the
#: policy changed.
SELECT_IN_PROJECTION_PATCH = "sla-in-projection"
#: The run loop's "no SLA moment was armed when it began to wait" (a moment may be None).
NOT_ARMED = object()


class Host(Protocol):
    """What of the ticket workflow the SLA needs."""

    _t: TicketSnapshot
    _outbox: list[OutboundMail]
    _process: CompiledProcess

    def _record(
        self,
        kind: str,
        *,
        actor: str = "",
        action: str | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        message_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> int: ...

    def _check(
        self, input: PerformActionInput
    ) -> tuple[ActionSpec, dict[str, Any]] | Rejection: ...

    async def _perform(
        self,
        input: PerformActionInput,
        action: ActionSpec,
        values: dict[str, Any],
        reason: str = "",
    ) -> PerformActionResult: ...

    async def _project(self, select: SelectSlaInput | None = None) -> SelectSlaResult | None: ...

    async def _triggered(self, event: str, cause: int, automatic: bool = False) -> None: ...


def clocks(host: Host) -> SlaClocks:
    return SlaClocks(host._t.sla)


def paused(host: Host) -> bool:
    return host._process.definition.state(host._t.state).sla_paused


def time_left(host: Host) -> timedelta | None:
    """Until the next SLA warning or due moment (None: no clock is running)."""
    moment = clocks(host).next_moment()
    if moment is None or not workflow.patched(SLA_PATCH):
        return None
    return max(moment - workflow.now(), timedelta(milliseconds=1))


def business_due(
    ticket: TicketSnapshot, default: dict[str, Any], start: datetime, after: str
) -> datetime:
    """``after`` ("8h", "2d") of business time from ``start``, in the calendar of the
    ticket's policy, else the ``default`` calendar pinned at its start (none: wall-clock)."""
    policy = ticket.sla.policy
    document = policy.calendar if policy is not None else default
    calendar = Calendar.from_dict(document) if document else Calendar.always()
    seconds = business_duration(after, calendar.working_day().total_seconds()) or 0
    try:
        return calendar.add(start, timedelta(seconds=seconds))
    except NoBusinessTime:  # a calendar with no working time ahead: wall-clock time
        return start + timedelta(seconds=seconds)


def earliest(*lefts: timedelta | None) -> timedelta | None:
    """The run loop's timer: the earliest of the state's timeout and the next SLA moment."""
    found = [left for left in lefts if left is not None]
    return min(found) if found else None


def before(entered_at: str, seconds: int) -> bool:
    """Whether the state's timeout is still to come (the timer rang for an SLA moment)."""
    return datetime.fromisoformat(entered_at) + timedelta(seconds=seconds) > workflow.now()


def entered(host: Host) -> None:
    """The ticket's state may have changed: pause, resume, meet or reopen the clocks."""
    clocks(host).entered(workflow.now(), host._t.state_category, paused(host))


def replied_publicly(host: Host, links: list[Any]) -> None:
    """An action put a public reply to the customer on the timeline: responses are met."""
    if any(link.sender_role == "agent" and not link.internal for link in links):
        clocks(host).replied(workflow.now())


def customer_wrote(host: Host) -> None:
    clocks(host).customer_wrote(workflow.now(), paused(host))


async def reselect(host: Host, reason: str, when: bool = True, project: bool = False) -> None:
    """Choose the policy again (a local activity) and re-arm the clocks if it changed (and
    project the change if asked: the signal's handler)."""
    if not when or not workflow.patched(SLA_PATCH):
        return
    chosen: SelectSlaResult = await workflow.execute_local_activity(
        ACT_SELECT_SLA,
        _select_input(host._t),
        result_type=SelectSlaResult,
        start_to_close_timeout=LOCAL_TIMEOUT,
        retry_policy=LOCAL_RETRY,
    )
    if _pin(host, chosen, reason) and project:
        await host._project()


async def project_reselecting(host: Host, reason: str, when: bool) -> None:
    """An action's projection, choosing the policy again when ``when`` (a change of priority,
    assignee, group or fields): one local activity for both, a second projection only when
    the policy changed. Histories from before ``SELECT_IN_PROJECTION_PATCH`` replay as they
    ran: ``select_sla``, then the projection."""
    if when and workflow.patched(SLA_PATCH) and workflow.patched(SELECT_IN_PROJECTION_PATCH):
        chosen = await host._project(select=_select_input(host._t))
        if chosen is not None and _pin(host, chosen, reason):
            await host._project()
        return
    await reselect(host, reason, when=when)
    await host._project()


def _select_input(t: TicketSnapshot) -> SelectSlaInput:
    return SelectSlaInput(
        t.number, t.priority, t.channel, t.process_name, t.group, t.contact_id, t.fields
    )


def _pin(host: Host, chosen: SelectSlaResult, reason: str) -> bool:
    """Re-arm the clocks under the chosen policy; whether it changed (recorded if so)."""
    t = host._t
    before = t.sla.policy.policy_name if t.sla.policy else None
    if not clocks(host).pin(chosen.sla, workflow.now(), t.state_category, paused(host)):
        return False
    after = chosen.sla.policy_name if chosen.sla else None
    host._record(
        "sla_changed", actor="system", data={"from": before, "to": after, "reason": reason}
    )
    return True


def for_query(ticket: TicketSnapshot) -> TicketSnapshot:
    """The snapshot as the query answers it: a breach not met yet is late by now - due (a
    query's now is the time of the workflow's last task; the API counts to the present)."""
    late = [c for c in ticket.sla.clocks if c.breached and not c.met_at and c.due_at]
    if not late:
        return ticket
    now = workflow.now()
    clocks = [
        replace(
            c, breached_by_seconds=int((now - datetime.fromisoformat(c.due_at)).total_seconds())
        )
        if c in late
        else c
        for c in ticket.sla.clocks
    ]
    return replace(ticket, sla=replace(ticket.sla, clocks=clocks))


def changed(before: TicketSnapshot, after: TicketSnapshot) -> bool:
    """Whether a change of the ticket may choose another policy."""
    return (before.priority, before.group, before.assignee, before.fields) != (
        after.priority,
        after.group,
        after.assignee,
        after.fields,
    )


async def fire(host: Host) -> None:
    """The timer rang (lock held): every warning and breach due now, each once."""
    if host._t.sla.policy is None:
        return  # (the state's timeout rang; tickets without a policy replay unchanged)
    for firing in clocks(host).fire(workflow.now()):
        policy = host._t.sla.policy
        actions = (
            (policy.on_warning if firing.kind == "sla_warning" else policy.on_breach)
            if policy
            else []
        )
        seq = host._record(firing.kind, actor="system", data=_data(firing, actions))
        for index, action in enumerate(actions):
            await _act(host, firing, action, seq, index)
        if firing.kind == "sla_warning":
            await host._triggered("sla_warning", seq)
    await host._project()


def _data(firing: Firing, actions: list[SlaAction]) -> dict[str, Any]:
    return {
        "target": firing.clock.target,
        "due_at": firing.clock.due_at,
        "cycle": firing.clock.cycle,
        "actions": [a.kind for a in actions],
    }


async def _act(host: Host, firing: Firing, action: SlaAction, seq: int, index: int) -> None:
    t = host._t
    if action.kind == "notify":
        host._outbox.append(
            OutboundMail(
                message_id=0,
                event_seq=seq,
                to="",
                author="system",
                kind="template",
                template=action.template,
                to_role=action.to,
                effect_index=index,
                action_id=firing.kind,
                fields={"target": firing.clock.target, "due_at": firing.clock.due_at},
            )
        )
    elif action.kind == "escalate" and action.group and action.group != t.group:
        host._t = replace(t, group=action.group, assignee=None)
        host._record("escalated", actor="system", data={"group": action.group, "sla": firing.kind})
    elif action.kind == "raise_priority" and t.priority + 1 in PRIORITIES:
        host._t = replace(t, priority=t.priority + 1)
        host._record("priority_raised", actor="system", data={"priority": t.priority + 1})
    elif action.kind == "perform":
        request = PerformActionInput(action.action, SYSTEM, {})
        checked = host._check(request)
        if isinstance(checked, Rejection):
            workflow.logger.warning("SLA action refused: %s", checked.message)
            return
        await host._perform(request, *checked, reason=f"{firing.kind} {firing.clock.target}")
