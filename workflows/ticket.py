"""TicketWorkflow: one durable workflow per ticket, driving its pinned process definition.

Query reads (``snapshot``), signals tell (``customer_message``, ``relink_contact``, ``rate``,
``sla_changed``: ``workflows.ticket_signals``), updates ask (``perform_action``,
``confirm_created``; ``migrate_process``: ``workflows.ticket_migration``). The engine they
share (check, perform, enter, record, project) is ``workflows.ticket_core``; here are the
run loop, the opening and time. Deterministic orchestration only: what an action's effects
do is data (``workflows.effects``), sending mail is ``workflows.outbox``, database work is
local activities referred to by name.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from statemachines import (
        REJECTION_TYPES,
        Rejection,
        compile_pinned,
    )
    from statemachines.definition import Timeout
    from tempodesk.contracts import (
        SYSTEM,
        ConfirmCreatedInput,
        ConfirmCreatedResult,
        MessageLink,
        OutboundMail,
        PerformActionInput,
        PerformActionResult,
        ProjectionInput,
        TicketEventRecord,
        TicketResult,
        TicketSnapshot,
        TicketStartInput,
    )
    from workflows import routing, sla
    from workflows.answers import Answers
    from workflows.indexing import ONE_STEP_OPEN_PATCH, SearchIndex
    from workflows.opening import open_in_one_step, open_in_three_steps
    from workflows.routing import TicketRouting, arm
    from workflows.ticket_links import TicketLinks
    from workflows.ticket_migration import TicketMigration
    from workflows.ticket_relations import TicketRelations
    from workflows.ticket_signals import TicketSignals
    from workflows.ticket_triggers import TicketTriggers

# Patches: what tickets started by earlier code replay as they ran (tests/workflows/histories).
# A patch, not the start input, decides: during a rolling deploy an old worker may run a
# ticket started by new code, and the history, not the input, says which code ran.
STATE_TIMEOUTS = "state-timeouts"  # before: no state had a timer
ONE_STEP_OPEN = ONE_STEP_OPEN_PATCH  # before: three local activities, indexed by the starter


def refused(rejection: Rejection) -> ApplicationError:
    return ApplicationError(
        rejection.message, rejection.as_details(), type=REJECTION_TYPES[rejection.kind]
    )


@workflow.defn
class TicketWorkflow(
    TicketSignals, TicketMigration, TicketRouting, TicketRelations, TicketLinks, TicketTriggers
):
    @workflow.init
    def __init__(self, input: TicketStartInput) -> None:
        # Built here, not in run(): an Update can be handled before run() starts.
        self._pinned = input.process
        self._process = compile_pinned(input.process.document)
        self._ready = input.restored is not None
        initial = self._process.definition.state(self._process.definition.initial)
        self._t = input.restored or TicketSnapshot.opening(
            input, initial.id, initial.label, initial.category, workflow.now().isoformat()
        )
        # A merged ticket restored (a late rating) is in no state of its process: its run ends.
        at = self._process.definition.initial if self._t.merged_into else self._t.state
        self._machine, _ = self._process.machine(at)
        self._lock = asyncio.Lock()
        self._events: list[TicketEventRecord] = []
        self._links: list[MessageLink] = []
        self._outbox: list[OutboundMail] = list(input.outbox)
        self._seen: list[int] = list(input.seen_messages)
        self._answers = Answers(input.answered)
        self._events_this_run = 0
        self._search = SearchIndex()
        self._triggers = list(input.triggers)
        self._calendar = input.calendar
        self._opened_at = ""  # when the opening's local activity finished (its clock)
        self._trigger_depth = 0
        if input.reopen and input.restored is not None:
            self._reopen()  # the customer wrote again: before anything (their message too)

    @workflow.run
    async def run(self, input: TicketStartInput) -> TicketResult:
        if not self._ready:
            async with self._lock:
                await self._open(input)
        elif self._events:
            async with self._lock:
                if self._events:
                    await self._project()
        while True:
            entry, armed = self._t.state_entry, self._armed()
            try:
                await workflow.wait_condition(
                    partial(self._has_work, input, entry, armed),
                    timeout=self._less_lag(
                        sla.earliest(
                            self._time_left_in_state(),
                            sla.time_left(self),
                            routing.time_left(self._t),
                            self._idle_left(),
                        )
                    ),
                )
            except TimeoutError:
                await self._fire_timeout(entry)
                continue
            if self._t.state_entry != entry and not (self._outbox or self._finished):
                continue  # the state changed: its timeout (if any) starts over
            if armed != self._armed() and not self._has_work(input, entry):
                continue  # an SLA clock or the re-routing timeout moved: its timer starts over
            if self._outbox:
                await self._deliver(self._outbox[0])
                self._outbox.pop(0)
                continue
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self._outbox:
                continue  # a handler that just finished queued more mail
            if self._finished:
                return TicketResult(number=self._t.number, state=self._t.state, seq=self._t.seq)
            workflow.continue_as_new(
                replace(
                    input,
                    process=self._pinned,
                    restored=self._t,
                    outbox=self._outbox,
                    seen_messages=self._seen,
                    answered=self._answers.kept,
                    triggers=self._triggers,
                    reopen=False,  # reopened once, when this ticket's run began
                )
            )

    # The opening

    async def _open(self, input: TicketStartInput) -> None:
        """Link the customer and the order, choose the assignee and project the new ticket:
        one local activity, one database transaction."""
        if not workflow.patched(ONE_STEP_OPEN):
            await self._open_in_three_steps(input)
            return
        data: dict[str, Any] = {"channel": input.channel}
        if input.created_by:
            data["entered_by"] = input.created_by
        if input.mailbox:
            data["mailbox"] = input.mailbox
        seq = self._record_created(input, data)
        opened = await open_in_one_step(
            input,
            ProjectionInput(replace(self._t), list(self._events), list(self._links)),
            sla.paused(self),
        )
        self._t = opened.applied_to(self._t)
        self._opened_at = opened.finished_at
        arm(self._t, opened.reroute_minutes)
        self._events.clear()
        self._links.clear()
        self._search.upsert(self._t)
        await self._opened(input, seq)

    def _record_created(self, input: TicketStartInput, data: dict[str, Any]) -> int:
        if input.message_id is not None:
            self._seen.append(input.message_id)
            self._links.append(
                MessageLink(
                    message_id=input.message_id,
                    channel=input.channel,
                    sender_role="customer",
                    internal=False,
                    author=self._t.customer_email or self._t.customer_name,
                )
            )
        seq = self._record(
            "created",
            actor=input.created_by or self._t.customer_email,
            to_state=self._t.state,
            message_id=input.message_id,
            data=data,
        )
        self._active(seq)
        return seq

    async def _opened(self, input: TicketStartInput, seq: int) -> None:
        """The ticket exists: acknowledge the request if asked to, file spam as spam."""
        if input.acknowledge and not input.spam and self._t.customer_email:
            self._outbox.append(
                OutboundMail(
                    message_id=0,
                    event_seq=seq,
                    to="",
                    author="system",
                    kind="template",
                    template=input.acknowledge,
                    to_role="customer",
                    action_id="acknowledge",
                    auto_submitted="auto-replied",
                )
            )
        self._ready = True
        if input.spam:
            await self._mark_spam()
        elif self._triggers:
            await self._triggered("created", seq, automatic=input.automatic)
            if self._events:
                await self._project()

    async def _open_in_three_steps(self, input: TicketStartInput) -> None:
        """How tickets opened before ``ONE_STEP_OPEN``: replayed, never chosen for new ones."""
        opened, data = await open_in_three_steps(input)
        self._t = opened.applied_to(self._t)
        if input.created_by:
            data["entered_by"] = input.created_by
        if input.mailbox:
            data["mailbox"] = input.mailbox
        seq = self._record_created(input, data)
        await self._project()
        await self._opened(input, seq)

    async def _mark_spam(self) -> None:
        """The spam filter flagged the mail: move it to spam, where an agent can release it."""
        if self._process.definition.action("mark_spam") is None:
            return  # this process has no spam queue: the ticket stays where it is
        request = PerformActionInput("mark_spam", SYSTEM, {})
        checked = self._check(request)
        if isinstance(checked, Rejection):
            return
        await self._perform(request, *checked, reason="the spam filter flagged it")

    # Waiting, time and the end of a run

    def _has_work(self, input: TicketStartInput, entry: int, armed: object = sla.NOT_ARMED) -> bool:
        return (
            bool(self._outbox)
            or self._finished
            or self._continue_as_new_due(input)
            or self._t.state_entry != entry
            or (armed is not sla.NOT_ARMED and armed != self._armed())
        )

    def _armed(self) -> object:
        """The moments the run loop's timer waits for besides the state's timeout."""
        return (sla.clocks(self).next_moment(), self._t.reroute_due, self._idle_moment())

    def _less_lag(self, left: timedelta | None) -> timedelta | None:
        """A timer armed in the opening's task counts from the task's start (the workflow's
        clock stands still during the opening's local activity): less the time it took,
        so that an opening slowed by load does not make the first deadline fire late. A
        timer that rings early re-arms (every moment is checked against the clock)."""
        if left is None or not self._opened_at:
            return left
        lag = datetime.fromisoformat(self._opened_at) - workflow.now()
        return max(left - lag, timedelta(milliseconds=1)) if lag > timedelta(0) else left

    def _time_left_in_state(self) -> timedelta | None:
        """Until the current state's timeout fires (None: it has none)."""
        if self._t.merged_into:
            return None  # merged: in no state of its process, its run ends
        timeout = self._process.definition.state(self._t.state).timeout
        if timeout is None or not self._t.state_entered_at:
            return None
        if not workflow.patched(STATE_TIMEOUTS):
            return None
        due = self._state_timeout_due(timeout)
        return max(due - workflow.now(), timedelta(milliseconds=1))

    def _state_timeout_due(self, timeout: Timeout) -> datetime:
        """When the state's timeout fires: wall-clock time after entering it, or business
        time of the ticket's calendar (``business: true``)."""
        entered = datetime.fromisoformat(self._t.state_entered_at)
        if timeout.business:
            return sla.business_due(self._t, self._calendar, entered, timeout.after)
        return entered + timedelta(seconds=timeout.seconds)

    async def _fire_timeout(self, entry: int) -> None:
        """An SLA moment (its warnings, breaches) or the state's timeout: the system acts."""
        async with self._lock:
            await sla.fire(self)
            await self._fire_reroute()
            await self._fire_idle()
            state = self._process.definition.state(self._t.state)
            if self._t.state_entry != entry or state.timeout is None:
                return  # an agent moved it just in time
            if self._state_timeout_due(state.timeout) > workflow.now():
                return  # the timer was an SLA moment
            request = PerformActionInput(state.timeout.action, SYSTEM, {})
            checked = self._check(request)
            if isinstance(checked, Rejection):
                workflow.logger.warning("timeout action refused: %s", checked.message)
                return
            reason = f"timeout after {state.timeout.after}"
            await self._perform(request, *checked, reason=reason)

    def _continue_as_new_due(self, input: TicketStartInput) -> bool:
        if input.continue_as_new_after and self._events_this_run >= input.continue_as_new_after:
            return True
        return workflow.info().is_continue_as_new_suggested()

    # Queries, updates and signals

    @workflow.query
    def snapshot(self) -> TicketSnapshot:
        return sla.for_query(self._t)

    @workflow.update
    async def confirm_created(self, input: ConfirmCreatedInput) -> ConfirmCreatedResult:
        """Answered once the new ticket is projected, so the caller can read it at once."""
        await workflow.wait_condition(lambda: self._ready and not self._events)
        return ConfirmCreatedResult(state=self._t.state)

    @confirm_created.validator
    def _validate_confirm_created(self, input: ConfirmCreatedInput) -> None:
        if input.number != self._t.number:
            raise ApplicationError("This is not that ticket.", type="WrongTicket")

    @workflow.update
    async def perform_action(self, input: PerformActionInput) -> PerformActionResult:
        async with self._lock:
            if (answered := self._answers.before()) is not None:
                return answered
            # Checked again: another action may have moved the ticket while this one waited.
            checked = self._check(input)
            if isinstance(checked, Rejection):
                raise refused(checked)
            result = await self._perform(input, *checked)
            self._answers.remember(result)
            return result

    @perform_action.validator
    def _validate_perform_action(self, input: PerformActionInput) -> None:
        if self._answers.before() is not None:
            return  # a retry of a request an earlier run performed: answered, not redone
        checked = self._check(input)
        if isinstance(checked, Rejection):
            raise refused(checked)

    # Bookkeeping
