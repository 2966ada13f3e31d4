"""What every part of a ticket's workflow works with: its state, and the engine that moves it.

``TicketWorkflow`` (workflows/ticket.py) is made of this core and the handlers beside it
(``ticket_signals``, ``ticket_migration``); Temporal finds handlers on base classes too. The
core checks and performs actions, enters states, records timeline events and projects them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from statemachines import (
        ActionSpec,
        CompiledProcess,
        FieldErrors,
        Rejection,
        check_action,
        clean_fields,
        move,
        public_field_values,
    )
    from tempodesk.contracts import (
        MAX_TIME_SPENT,
        MessageLink,
        OutboundMail,
        PerformActionInput,
        PerformActionResult,
        PinnedProcess,
        ProjectionInput,
        SelectSlaInput,
        SelectSlaResult,
        TicketEventRecord,
        TicketSnapshot,
    )
    from workflows import sla
    from workflows.answers import Answers
    from workflows.effects import Pressed, apply_effects
    from workflows.indexing import SearchIndex
    from workflows.opening import project, project_action
    from workflows.outbox import deliver


class TicketCore:
    """The ticket as its workflow holds it (set up by ``TicketWorkflow.__init__``)."""

    _pinned: PinnedProcess
    _process: CompiledProcess
    _ready: bool
    _t: TicketSnapshot
    _machine: Any  # the compiled process's python-statemachine machine
    _lock: asyncio.Lock
    _events: list[TicketEventRecord]
    _links: list[MessageLink]
    _outbox: list[OutboundMail]
    _seen: list[int]
    _answers: Answers
    _events_this_run: int
    _search: SearchIndex

    @property
    def _finished(self) -> bool:
        if self._t.merged_into:  # merged into another ticket: in no state of its process
            return True
        return self._process.definition.state(self._t.state).final

    def _check(self, input: PerformActionInput) -> tuple[ActionSpec, dict[str, Any]] | Rejection:
        """The action and its cleaned values, or why not (``check_action``, as the web)."""
        action = check_action(
            self._process.definition,
            self._t.state,
            input.action,
            input.actor,
            assignee=self._t.assignee,
            customer_email=self._t.customer_email,
            expected_state=input.expected_state,
            ready=self._ready,
            contact_id=self._t.contact_id,
        )
        if isinstance(action, Rejection):
            return action
        if not 0 <= input.time_spent <= MAX_TIME_SPENT:
            errors = {"time_spent": f"From 0 to {MAX_TIME_SPENT} minutes."}
            return Rejection("invalid_fields", field_errors=errors)
        try:
            return action, clean_fields(action, input.fields, claimed=True)
        except FieldErrors as exc:
            return Rejection("invalid_fields", field_errors=exc.errors)

    async def _perform(
        self,
        input: PerformActionInput,
        action: ActionSpec,
        values: dict[str, Any],
        reason: str = "",
    ) -> PerformActionResult:
        """Apply an action's effects, move the machine, record and project (lock held)."""
        before, input_assignee = self._t.state, self._t.assignee
        outcome = apply_effects(
            self._t,
            Pressed(
                action,
                values,
                input.actor.username,
                seq=self._t.seq + 1,
                actor_kind=input.actor.kind,
                sms_to=input.sms_to,
            ),
        )
        changed, self._t = sla.changed(self._t, outcome.ticket), outcome.ticket
        if input.actor.kind == "agent":
            self._t.reroute_due = ""  # an agent acted: routing's timeout is off
        sla.replied_publicly(self, outcome.links)
        self._links += outcome.links
        self._outbox += outcome.outbox
        data: dict[str, Any] = {"label": action.label}
        if reason:
            data["reason"] = reason
        public = public_field_values(action, values)
        if public:
            data["fields"] = public
        data.update(outcome.data)
        if outcome.message_ids:
            data["message_ids"] = outcome.message_ids
        if input.time_spent:  # (absent from earlier inputs: their events replay unchanged)
            data["time_spent"] = input.time_spent
            self._t.time_spent += input.time_spent
        after = move(self._machine, action.id)
        self._enter(after)
        seq = self._record(
            "action",
            actor=input.actor.username,
            action=action.id,
            from_state=before,
            to_state=after,
            message_id=outcome.message_ids[0] if outcome.message_ids else None,
            data=data,
        )
        if input.actor.kind != "system":
            self._active(seq)
        if after != before:
            await self._triggered("state_changed", seq)
        if self._t.assignee != input_assignee:
            await self._triggered("assigned", seq)
        await sla.project_reselecting(self, f"action {action.id}", when=changed)
        return PerformActionResult(
            state=self._t.state, state_label=self._t.state_label, seq=self._t.seq
        )

    async def _triggered(self, event: str, cause: int, automatic: bool = False) -> None:
        """Run the triggers on ``event`` (``workflows.ticket_triggers`` overrides this)."""

    def _outgoing(self, mail: OutboundMail) -> OutboundMail:
        """The mail with its outgoing rules (``workflows.ticket_triggers`` overrides this)."""
        return mail

    def _active(self, seq: int) -> None:
        """Someone acted on the ticket (timeline event ``seq``): idle triggers count anew."""
        self._t.active_at = workflow.now().isoformat()
        self._t.active_seq = seq

    async def _settled(self) -> None:
        """The state changed: tell the parents that wait for this ticket
        (``workflows.ticket_links`` overrides this)."""

    def _reopen(self) -> None:
        """Move a restored closed ticket to the process's first open state (else the initial)."""
        definition = self._process.definition
        target = next(
            (s.id for s in definition.states if s.category == "open" and not s.final),
            definition.initial,
        )
        before = self._t.state
        self._machine, _ = self._process.machine(target)
        self._enter(target, force=True)
        self._record("reopened", actor="system", from_state=before, to_state=target)

    async def _deliver(self, mail: OutboundMail) -> None:
        delivered = await deliver(self._outgoing(mail), self._t)
        async with self._lock:
            self._links += delivered.links
            for entry in delivered.entries:
                self._record(
                    entry.kind, actor="system", message_id=entry.message_id, data=entry.data
                )
            await self._project()

    def _enter(self, state_id: str, *, force: bool = False) -> None:
        state = self._process.definition.state(state_id)
        if force or state.id != self._t.state:
            self._t.state_entry += 1
            self._t.state_entered_at = workflow.now().isoformat()
        self._t.state = state.id
        self._t.state_label = state.label
        self._t.state_category = state.category
        sla.entered(self)

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
    ) -> int:
        self._t.seq += 1
        self._t.updated_at = workflow.now().isoformat()
        self._events_this_run += 1
        self._events.append(
            TicketEventRecord(
                seq=self._t.seq,
                kind=kind,
                at=self._t.updated_at,
                actor=actor,
                action=action,
                from_state=from_state,
                to_state=to_state,
                message_id=message_id,
                data=data or {},
            )
        )
        return self._t.seq

    async def _project(self, select: SelectSlaInput | None = None) -> SelectSlaResult | None:
        """Write the snapshot and the new events to the database before anyone is answered
        (with ``select``, choosing the SLA policy again in the same transaction)."""
        self._search.upsert(self._t)
        events, links = list(self._events), list(self._links)
        projection = ProjectionInput(snapshot=replace(self._t), events=events, messages=links)
        chosen = None
        if select is None:
            await project(projection)
        else:
            chosen = await project_action(projection, select)
        del self._events[: len(events)]
        del self._links[: len(links)]
        return chosen
