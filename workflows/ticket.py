"""TicketWorkflow: one durable workflow per ticket, driving its pinned process definition.

Query reads (``snapshot``), signals tell (``customer_message``, ``relink_contact``), updates
ask (``perform_action``, ``confirm_created``, ``migrate_process``). Deterministic
orchestration only: what an action's effects do is data (``workflows.effects``), sending
mail is ``workflows.outbox``, database work is local activities referred to by name.
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
        CUSTOMER_MESSAGE,
        REJECTION_TYPES,
        ActionSpec,
        CompiledProcess,
        DefinitionError,
        FieldErrors,
        MigrationRefused,
        Rejection,
        check_action,
        clean_fields,
        compile_pinned,
        migration_target,
        move,
        public_field_values,
    )
    from tempodesk.contracts import (
        SYSTEM,
        ConfirmCreatedInput,
        ConfirmCreatedResult,
        CustomerMessageInput,
        MessageLink,
        MigrateProcessInput,
        MigrateProcessResult,
        OutboundMail,
        PerformActionInput,
        PerformActionResult,
        ProjectionInput,
        RateInput,
        RelinkContactInput,
        TicketEventRecord,
        TicketResult,
        TicketSnapshot,
        TicketStartInput,
    )
    from workflows.answers import Answers
    from workflows.closed import redirect
    from workflows.effects import Pressed, apply_effects
    from workflows.indexing import ONE_STEP_OPEN_PATCH, SearchIndex
    from workflows.opening import open_in_one_step, open_in_three_steps, project
    from workflows.outbox import deliver
    from workflows.rating import take_rating

SEEN_MESSAGES_KEPT = 500
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
class TicketWorkflow:
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
        self._machine, _ = self._process.machine(self._t.state)
        self._lock = asyncio.Lock()
        self._events: list[TicketEventRecord] = []
        self._links: list[MessageLink] = []
        self._outbox: list[OutboundMail] = list(input.outbox)
        self._seen: list[int] = list(input.seen_messages)
        self._answers = Answers(input.answered)
        self._events_this_run = 0
        self._search = SearchIndex()
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
            entry = self._t.state_entry
            try:
                await workflow.wait_condition(
                    partial(self._has_work, input, entry), timeout=self._time_left_in_state()
                )
            except TimeoutError:
                await self._fire_timeout(entry)
                continue
            if self._t.state_entry != entry and not (self._outbox or self._finished):
                continue  # the state changed: its timeout (if any) starts over
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
            input, ProjectionInput(replace(self._t), list(self._events), list(self._links))
        )
        self._t = opened.applied_to(self._t)
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
        return self._record(
            "created",
            actor=input.created_by or self._t.customer_email,
            to_state=self._t.state,
            message_id=input.message_id,
            data=data,
        )

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

    # Waiting, time and the end of a run

    def _has_work(self, input: TicketStartInput, entry: int) -> bool:
        return (
            bool(self._outbox)
            or self._finished
            or self._continue_as_new_due(input)
            or self._t.state_entry != entry
        )

    @property
    def _finished(self) -> bool:
        return self._process.definition.state(self._t.state).final

    def _time_left_in_state(self) -> timedelta | None:
        """Until the current state's timeout fires (None: it has none)."""
        timeout = self._process.definition.state(self._t.state).timeout
        if timeout is None or not self._t.state_entered_at:
            return None
        if not workflow.patched(STATE_TIMEOUTS):
            return None
        due = datetime.fromisoformat(self._t.state_entered_at) + timedelta(seconds=timeout.seconds)
        return max(due - workflow.now(), timedelta(milliseconds=1))

    async def _fire_timeout(self, entry: int) -> None:
        """The ticket stayed too long in its state: the system performs the state's action."""
        async with self._lock:
            state = self._process.definition.state(self._t.state)
            if self._t.state_entry != entry or state.timeout is None:
                return  # an agent moved it just in time
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
        return self._t

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
        before = self._t.state
        outcome = apply_effects(
            self._t,
            Pressed(action, values, input.actor.username, seq=self._t.seq + 1, sms_to=input.sms_to),
        )
        self._t = outcome.ticket
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
        after = move(self._machine, action.id)
        self._enter(after)
        self._record(
            "action",
            actor=input.actor.username,
            action=action.id,
            from_state=before,
            to_state=after,
            message_id=outcome.message_ids[0] if outcome.message_ids else None,
            data=data,
        )
        await self._project()
        return PerformActionResult(
            state=self._t.state, state_label=self._t.state_label, seq=self._t.seq
        )

    @workflow.update
    async def migrate_process(self, input: MigrateProcessInput) -> MigrateProcessResult:
        """Move the ticket to another published process version with an explicit state map."""
        async with self._lock:
            compiled, target = self._check_migration(input)
            before_version, before_state = self._pinned.version, self._t.state
            self._pinned, self._process = input.process, compiled
            self._machine, _ = compiled.machine(target)
            self._t.process_name = input.process.name
            self._t.process_version = input.process.version
            self._enter(target, force=True)
            self._record(
                "migrated",
                actor=input.actor.username,
                from_state=before_state,
                to_state=target,
                data={
                    "from_version": before_version,
                    "to_version": input.process.version,
                    "process": input.process.name,
                    "migration": input.migration_id,
                },
            )
            await self._project()
            return MigrateProcessResult(
                before_version, input.process.version, before_state, target, self._t.seq
            )

    @migrate_process.validator
    def _validate_migrate_process(self, input: MigrateProcessInput) -> None:
        self._check_migration(input)

    def _check_migration(self, input: MigrateProcessInput) -> tuple[CompiledProcess, str]:
        if not self._ready:
            raise ApplicationError("The ticket is still being created.", type="NotReady")
        if not input.actor.is_admin:
            raise ApplicationError("Only admins may migrate tickets.", type="ActionForbidden")
        if (input.process.name, input.process.version) == (self._pinned.name, self._pinned.version):
            raise ApplicationError(
                f"The ticket is already on {input.process.name} v{input.process.version}.",
                type="AlreadyMigrated",
            )
        try:
            compiled = compile_pinned(input.process.document)
        except (DefinitionError, ValueError) as exc:
            raise ApplicationError(
                f"The new version cannot run: {exc}", type="InvalidDefinition"
            ) from None
        try:
            target = migration_target(compiled.definition, self._t.state, input.state_map)
        except MigrationRefused as exc:
            raise ApplicationError(str(exc), type="UnmappedState") from None
        return compiled, target

    @workflow.signal
    async def relink_contact(self, input: RelinkContactInput) -> None:
        """A fact from the people side: this ticket's customer is another contact now."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            if self._t.contact_id == input.contact_id:
                return
            before = self._t.contact_id
            self._t.contact_id = input.contact_id
            self._t.customer_email = input.customer_email
            self._t.customer_name = input.customer_name
            self._record(
                "contact_changed",
                actor=input.actor,
                data={"from_contact": before, "to_contact": input.contact_id},
            )
            await self._project()

    @workflow.signal
    async def rate(self, input: RateInput) -> None:
        """The customer rated an answer (a comment is stored already): recorded, kept."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            rated = take_rating(self._t, input, workflow.now().isoformat())
            if rated is None:
                return
            self._t, self._links = rated.ticket, self._links + rated.links
            self._record("rated", actor=rated.actor, message_id=rated.message_id, data=rated.data)
            await self._project()

    @workflow.signal
    async def customer_message(self, input: CustomerMessageInput) -> None:
        """The customer wrote (the body is stored already); the definition says where it moves."""
        if input.message_id in self._seen:
            return
        self._seen.append(input.message_id)
        del self._seen[:-SEEN_MESSAGES_KEPT]
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            closed = self._finished and not input.auto_reply
            if closed and input.if_closed == "reopen":
                self._reopen()  # as a new run would, had this one ended already
            elif closed and input.if_closed == "new":  # a new ticket; this one stays closed
                number = await redirect(self._t.number, input.message_id)
                if number:  # else (the mail unreadable now) it stays here
                    actor = input.author or self._t.customer_email
                    self._record("message_redirected", actor=actor, data={"ticket": number})
                    return await self._project()
            before = self._t.state
            after = before
            if not self._finished and not input.auto_reply:
                after = move(self._machine, CUSTOMER_MESSAGE)
                self._enter(after)
            if input.rfc_message_id:
                self._t.customer_message_id = input.rfc_message_id
            author = input.author or self._t.customer_email
            self._links.append(
                MessageLink(
                    message_id=input.message_id,
                    channel=input.channel or self._t.channel,
                    sender_role="customer",
                    internal=False,
                    author=author,
                )
            )
            self._record(
                CUSTOMER_MESSAGE,
                actor=author,
                from_state=before,
                to_state=after,
                message_id=input.message_id,
                data={"auto_reply": True} if input.auto_reply else None,
            )
            await self._project()

    # Bookkeeping

    async def _deliver(self, mail: OutboundMail) -> None:
        delivered = await deliver(mail, self._t)
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

    async def _project(self) -> None:
        """Write the snapshot and the new events to the database before anyone is answered."""
        self._search.upsert(self._t)
        events, links = list(self._events), list(self._links)
        await project(ProjectionInput(snapshot=replace(self._t), events=events, messages=links))
        del self._events[: len(events)]
        del self._links[: len(links)]
