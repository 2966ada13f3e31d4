"""Triggers in the ticket's workflow: admin-defined rules run on the ticket's own events as
ordinary code over data (``statemachines.triggers``). Each firing is a timeline event
(``trigger_fired``). A trigger fires at most once per event that caused it (its key, kept in
the snapshot across continue-as-new), triggers a trigger caused are followed only
``MAX_DEPTH`` deep, and a ticket fires at most ``MAX_PER_HOUR`` an hour.

Idle triggers wait on the run loop's timer: ``hours`` of business time after the ticket's
last activity (its SLA policy's calendar, else the trigger's), once per activity. Outgoing
triggers fire on no event: they are rules each queued mail takes along to the activity that
composes it (BCC, a signature by the recipient's language)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from statemachines import Rejection
    from statemachines.triggers import (
        MAX_DEPTH,
        MAX_PER_HOUR,
        RECIPIENT,
        holds,
        idle_due,
        languages_of,
        mail_conditions_hold,
        ticket_values,
    )
    from tempodesk.contracts import SYSTEM, OutboundMail, PerformActionInput, normalise_tag
    from tempodesk.contracts.triggers import OutgoingRule, TriggersChangedInput, TriggerSpec
    from tempodesk.sla.clocks import calendar_from
    from workflows.ticket_core import TicketCore

TRIGGERS = "triggers"  # before: no ticket ran triggers (only asked when a ticket has some)
IDLE = "trigger-idle"  # before: no ticket waited for idle triggers (asked only if it has one)
FIRED_KEPT = 200
#: Events a trigger's template answers (a customer's mail): sent as an auto-reply (RFC 3834),
#: never to automatic mail, at most one per address per window (activities.mail).
ANSWERING = ("created", "customer_message")


class TicketTriggers(TicketCore):
    _triggers: list[TriggerSpec]
    _trigger_depth: int

    @workflow.signal
    async def triggers_changed(self, input: TriggersChangedInput) -> None:
        """A fact: the admins changed the triggers (the whole list, in order)."""
        self._triggers = list(input.triggers)

    async def _triggered(self, event: str, cause: int, automatic: bool = False) -> None:
        """Run the triggers on ``event`` (caused by timeline event ``cause``; ``automatic``:
        by automatic mail), lock held."""
        if not self._triggers or self._trigger_depth >= MAX_DEPTH:
            return
        if not workflow.patched(TRIGGERS):
            return
        self._trigger_depth += 1
        try:
            for spec in list(self._triggers):
                if spec.on == event:
                    await self._try(spec, event, cause, automatic)
        finally:
            self._trigger_depth -= 1

    async def _try(self, spec: TriggerSpec, event: str, cause: int, automatic: bool) -> None:
        values = ticket_values(self._t)  # as the triggers before left it
        if not all(holds(c, values) for c in spec.conditions):
            return
        key = f"{spec.id}:{cause}"
        if key in self._t.triggers_fired or not self._within_rate():
            return
        self._t.triggers_fired = [*self._t.triggers_fired, key][-FIRED_KEPT:]
        self._t.trigger_times = [*self._t.trigger_times, workflow.now().isoformat()]
        await self._fire(spec, event, cause, automatic)

    def _within_rate(self) -> bool:
        hour_ago = workflow.now() - timedelta(hours=1)
        recent = [t for t in self._t.trigger_times if datetime.fromisoformat(t) > hour_ago]
        self._t.trigger_times = recent
        return len(recent) < MAX_PER_HOUR

    # Idle tickets

    def _idle_specs(self) -> list[tuple[TriggerSpec, datetime]]:
        """The idle triggers still to fire since the last activity, with when each is due."""
        t = self._t
        if not t.active_at or self._finished:
            return []
        found = []
        for spec in self._triggers:
            if (
                spec.on != "idle"
                or spec.hours <= 0
                or f"{spec.id}:{t.active_seq}" in (t.triggers_fired)
            ):
                continue
            document = t.sla.policy.calendar if t.sla.policy else spec.calendar
            due = idle_due(datetime.fromisoformat(t.active_at), spec.hours, calendar_from(document))
            if due is not None:
                found.append((spec, due))
        return found

    def _idle_moment(self) -> datetime | None:
        """The next idle trigger's moment (the run loop re-arms its timer when it moves)."""
        if not any(spec.on == "idle" for spec in self._triggers):
            return None
        return min((due for _spec, due in self._idle_specs()), default=None)

    def _idle_left(self) -> timedelta | None:
        """Until the next idle trigger is due (None: none waits; no timer, no marker)."""
        moment = self._idle_moment()
        if moment is None or not workflow.patched(IDLE):
            return None
        return max(moment - workflow.now(), timedelta(milliseconds=1))

    async def _fire_idle(self) -> None:
        """The timer rang (lock held): every idle trigger due now fires, once per activity."""
        if self._idle_moment() is None or not workflow.patched(TRIGGERS):
            return
        now, cause = workflow.now(), self._t.active_seq
        self._trigger_depth += 1
        try:
            for spec, due in self._idle_specs():
                if due > now:
                    continue
                await self._try(spec, "idle", cause, False)
                key = f"{spec.id}:{cause}"
                if key not in self._t.triggers_fired:  # its conditions did not hold: checked,
                    # not again until the next activity (else the timer would ring at once)
                    self._t.triggers_fired = [*self._t.triggers_fired, key][-FIRED_KEPT:]
        finally:
            self._trigger_depth -= 1
        if self._events:
            await self._project()

    # Outgoing mail

    def _outgoing(self, mail: OutboundMail) -> OutboundMail:
        """The mail with the outgoing triggers that hold for this ticket now."""
        if mail.kind not in ("reply", "template") or not self._triggers:
            return mail
        values = {**ticket_values(self._t), RECIPIENT: mail.to_role or "customer"}
        rules = []
        for spec in self._triggers:
            if spec.on != "outgoing" or not mail_conditions_hold(spec.conditions, values):
                continue
            actions = [(a.type, str(a.value)) for a in spec.actions]
            rules.append(
                OutgoingRule(
                    spec.name,
                    languages_of(spec.conditions),
                    [v for kind, v in actions if kind == "add_bcc"],
                    next((v for kind, v in reversed(actions) if kind == "set_signature"), ""),
                )
            )
        return replace(mail, outgoing=rules) if rules else mail

    # Firing

    async def _fire(self, spec: TriggerSpec, event: str, cause: int, automatic: bool) -> None:
        done: list[dict[str, Any]] = []
        assignee = self._t.assignee
        performs: list[str] = []
        templates: list[tuple[str, str]] = []
        for action in spec.actions:
            if action.type == "set_priority":
                self._t.priority = int(action.value)
            elif action.type == "set_field" and action.name:
                self._t.fields = {**self._t.fields, action.name: action.value}
            elif action.type == "assign":
                self._t.assignee = str(action.value) or None
            elif action.type == "perform":
                performs.append(str(action.value))
            elif action.type == "send_template":
                to_role = action.name or "customer"
                if automatic and event in ANSWERING and to_role == "customer":
                    continue  # never an auto-reply to automatic mail (RFC 3834)
                templates.append((str(action.value), to_role))
            elif action.type == "add_tag" and normalise_tag(str(action.value)):
                tag = normalise_tag(str(action.value))
                self._t.tags = sorted({*self._t.tags, tag})
            else:
                continue
            done.append({"type": action.type, "name": action.name, "value": action.value})
        data: dict[str, Any] = {"trigger": spec.id, "name": spec.name, "on": event, "cause": cause}
        if any(a["type"] == "add_tag" for a in done):
            data["tags"] = self._t.tags  # the projection writes them (ticket_tags)
        seq = self._record("trigger_fired", actor="system", data={**data, "actions": done})
        for template, to_role in templates:  # sent by the run loop, as an action's would be
            answers = event in ANSWERING and to_role == "customer"
            self._outbox.append(
                OutboundMail(
                    message_id=0,
                    event_seq=seq,
                    to="",
                    author="system",
                    kind="template",
                    template=template,
                    to_role=to_role,
                    action_id=f"trigger-{spec.id}",
                    action_label=spec.name,
                    auto_submitted="auto-replied" if answers else "auto-generated",
                )
            )
        if self._t.assignee != assignee:
            await self._triggered("assigned", seq)
        for action_id in performs:
            request = PerformActionInput(action_id, SYSTEM, {})
            checked = self._check(request)
            if isinstance(checked, Rejection):
                workflow.logger.warning("trigger %s: %s refused", spec.name, action_id)
                continue
            await self._perform(request, *checked, reason=f"trigger {spec.name}")
