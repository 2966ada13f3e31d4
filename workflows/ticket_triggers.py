"""Triggers in the ticket's workflow: admin-defined rules run on the ticket's own events as
ordinary code over data (``statemachines.triggers``). Each firing is a timeline event
(``trigger_fired``). A trigger fires at most once per event that caused it (its key, kept in
the snapshot across continue-as-new), triggers a trigger caused are followed only
``MAX_DEPTH`` deep, and a ticket fires at most ``MAX_PER_HOUR`` an hour."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from statemachines import Rejection
    from statemachines.triggers import MAX_DEPTH, MAX_PER_HOUR, holds, ticket_values
    from tempodesk.contracts import SYSTEM, OutboundMail, PerformActionInput, normalise_tag
    from tempodesk.contracts.triggers import TriggersChangedInput, TriggerSpec
    from workflows.ticket_core import TicketCore

TRIGGERS = "triggers"  # before: no ticket ran triggers (only asked when a ticket has some)
FIRED_KEPT = 200


class TicketTriggers(TicketCore):
    _triggers: list[TriggerSpec]
    _trigger_depth: int

    @workflow.signal
    async def triggers_changed(self, input: TriggersChangedInput) -> None:
        """A fact: the admins changed the triggers (the whole list, in order)."""
        self._triggers = list(input.triggers)

    async def _triggered(self, event: str, cause: int) -> None:
        """Run the triggers on ``event`` (caused by timeline event ``cause``), lock held."""
        if not self._triggers or self._trigger_depth >= MAX_DEPTH:
            return
        if not workflow.patched(TRIGGERS):
            return
        self._trigger_depth += 1
        try:
            for spec in list(self._triggers):
                if spec.on != event:
                    continue
                values = ticket_values(self._t)  # as the triggers before left it
                if not all(holds(c, values) for c in spec.conditions):
                    continue
                key = f"{spec.id}:{cause}"
                if key in self._t.triggers_fired or not self._within_rate():
                    continue
                self._t.triggers_fired = [*self._t.triggers_fired, key][-FIRED_KEPT:]
                self._t.trigger_times = [*self._t.trigger_times, workflow.now().isoformat()]
                await self._fire(spec, event, cause)
        finally:
            self._trigger_depth -= 1

    def _within_rate(self) -> bool:
        hour_ago = workflow.now() - timedelta(hours=1)
        recent = [t for t in self._t.trigger_times if datetime.fromisoformat(t) > hour_ago]
        self._t.trigger_times = recent
        return len(recent) < MAX_PER_HOUR

    async def _fire(self, spec: TriggerSpec, event: str, cause: int) -> None:
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
                templates.append((str(action.value), action.name or "customer"))
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
