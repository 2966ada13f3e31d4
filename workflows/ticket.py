"""TicketWorkflow: one durable workflow per ticket, driving its pinned process definition.

Query reads (``snapshot``), signal tells (``customer_message``), update asks
(``perform_action``, ``confirm_created``). Deterministic orchestration only: database work,
mail and assignment look-ups are activities, referred to by name.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from statemachines import (
        CUSTOMER_MESSAGE,
        ActionSpec,
        CompiledProcess,
        DefinitionError,
        FieldErrors,
        clean_fields,
        compile_pinned,
        may_perform,
        move,
        public_field_values,
    )
    from tempodesk.contracts import (
        ACT_CHOOSE_ASSIGNEE,
        ACT_LINK_CUSTOMER,
        ACT_PROJECT,
        ACT_SEND_MAIL,
        ACT_SEND_TEMPLATE,
        MAIL_TASK_QUEUE,
        SA_ASSIGNEE,
        SA_GROUP,
        SA_PRIORITY,
        SA_PROCESS,
        SA_STATE,
        SA_STATE_CATEGORY,
        SYSTEM,
        AssignmentInput,
        AssignmentResult,
        ConfirmCreatedInput,
        CustomerMessageInput,
        LinkCustomerInput,
        LinkCustomerResult,
        MessageAttachment,
        MigrateProcessInput,
        MigrateProcessResult,
        OutboundMail,
        PerformActionInput,
        PerformActionResult,
        ProjectionInput,
        RelinkContactInput,
        SendMailInput,
        SendMailResult,
        SendTemplateInput,
        SendTemplateResult,
        TicketEventRecord,
        TicketResult,
        TicketSnapshot,
        TicketStartInput,
    )

LOCAL_TIMEOUT = timedelta(seconds=15)
# Database steps are short and must eventually succeed: retry without limit, gently.
LOCAL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
# SMTP: client timeout (settings.smtp_timeout_seconds) < start-to-close; a 1-hour outage
# never exhausts the retry window; a 5xx from the server is permanent (no retry).
MAIL_START_TO_CLOSE = timedelta(seconds=60)
MAIL_SCHEDULE_TO_CLOSE = timedelta(days=3)
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["PermanentDeliveryFailure"],
)
SEEN_MESSAGES_KEPT = 500


@workflow.defn
class TicketWorkflow:
    @workflow.init
    def __init__(self, input: TicketStartInput) -> None:
        # Built here, not in run(): an Update can be handled before run() starts.
        self._pinned = input.process
        self._process = compile_pinned(input.process.document)
        definition = self._process.definition
        if input.restored is not None:
            self._t = input.restored
            self._ready = True
        else:
            now = workflow.now().isoformat()
            initial = definition.state(definition.initial)
            self._t = TicketSnapshot(
                number=input.number,
                subject=input.subject,
                state=initial.id,
                state_label=initial.label,
                state_category=initial.category,
                process_name=input.process.name,
                process_version=input.process.version,
                channel=input.channel,
                priority=input.priority,
                customer_email=input.customer.email,
                customer_name=input.customer.name,
                created_at=now,
                updated_at=now,
                first_message_id=input.message_id,
                state_entered_at=now,
                mailbox=input.mailbox,
                customer_message_id=input.rfc_message_id,
            )
            self._ready = False
        self._machine, _ = self._process.machine(self._t.state)
        self._lock = asyncio.Lock()
        self._events: list[TicketEventRecord] = []
        self._attachments: list[MessageAttachment] = []
        self._outbox: list[OutboundMail] = list(input.outbox)
        self._seen: list[int] = list(input.seen_messages)
        self._events_this_run = 0
        self._indexed: dict[str, Any] = {}
        if input.reopen and input.restored is not None:
            # A closed ticket's customer wrote again: this new run reopens it before anything
            # else is handled (the signal that started the run included).
            self._reopen()

    # ------------------------------------------------------------------ run

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
                )
            )

    async def _open(self, input: TicketStartInput) -> None:
        """Link the customer and the order, choose the assignee, and project the new ticket."""
        link: LinkCustomerResult = await workflow.execute_local_activity(
            ACT_LINK_CUSTOMER,
            LinkCustomerInput(
                input.number, input.customer, input.order_number, input.create_contact
            ),
            result_type=LinkCustomerResult,
            start_to_close_timeout=LOCAL_TIMEOUT,
            retry_policy=LOCAL_RETRY,
        )
        self._t.contact_id = link.contact_id
        self._t.order_id = link.order_id
        self._t.customer_email = link.customer_email
        self._t.customer_name = link.customer_name
        assignment: AssignmentResult = await workflow.execute_local_activity(
            ACT_CHOOSE_ASSIGNEE,
            AssignmentInput(input.number, input.mailbox or input.channel, link.contact_id),
            result_type=AssignmentResult,
            start_to_close_timeout=LOCAL_TIMEOUT,
            retry_policy=LOCAL_RETRY,
        )
        self._t.assignee = assignment.assignee
        self._t.group = assignment.group
        if input.message_id is not None:
            self._seen.append(input.message_id)
            self._attachments.append(
                MessageAttachment(
                    message_id=input.message_id,
                    channel=input.channel,
                    sender_role="customer",
                    internal=False,
                    author=self._t.customer_email or self._t.customer_name,
                )
            )
        data: dict[str, Any] = {"assignment": assignment.reason, "channel": input.channel}
        if link.order_note:
            data["order_note"] = link.order_note
        if input.created_by:
            data["entered_by"] = input.created_by
        if input.mailbox:
            data["mailbox"] = input.mailbox
        seq = self._record(
            "created",
            actor=input.created_by or self._t.customer_email,
            to_state=self._t.state,
            message_id=input.message_id,
            data=data,
        )
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
        await self._project()
        self._ready = True
        if input.spam:
            await self._mark_spam()

    async def _mark_spam(self) -> None:
        """The spam filter flagged the mail: move it to spam, where an agent can release it."""
        spam = next(
            (a for a in self._process.definition.actions_in(self._t.state) if a.id == "mark_spam"),
            None,
        )
        if spam is None:
            return  # this process has no spam queue: the ticket stays where it is
        request = PerformActionInput(spam.id, SYSTEM, {})
        try:
            action, values = self._check(request)
        except ApplicationError:
            return
        await self._perform(request, action, values, reason="the spam filter flagged it")

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
        # Tickets started before state timeouts existed never had a timer: keep replaying so.
        if not workflow.patched("state-timeouts"):
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
            try:
                action, values = self._check(request)
            except ApplicationError as exc:
                workflow.logger.warning("timeout action refused: %s", exc.message)
                return
            await self._perform(
                request, action, values, reason=f"timeout after {state.timeout.after}"
            )

    def _continue_as_new_due(self, input: TicketStartInput) -> bool:
        if input.continue_as_new_after and self._events_this_run >= input.continue_as_new_after:
            return True
        return workflow.info().is_continue_as_new_suggested()

    # ------------------------------------------------------------------ messages

    @workflow.query
    def snapshot(self) -> TicketSnapshot:
        return self._t

    @workflow.update
    async def confirm_created(self, input: ConfirmCreatedInput) -> TicketSnapshot:
        """Answered once the new ticket is projected, so the caller can read it at once."""
        await workflow.wait_condition(lambda: self._ready and not self._events)
        return self._t

    @confirm_created.validator
    def _validate_confirm_created(self, input: ConfirmCreatedInput) -> None:
        if input.number != self._t.number:
            raise ApplicationError("This is not that ticket.", type="WrongTicket")

    @workflow.update
    async def perform_action(self, input: PerformActionInput) -> PerformActionResult:
        async with self._lock:
            # Checked again: another action may have moved the ticket while this one waited.
            action, values = self._check(input)
            return await self._perform(input, action, values)

    async def _perform(
        self,
        input: PerformActionInput,
        action: ActionSpec,
        values: dict[str, Any],
        reason: str = "",
    ) -> PerformActionResult:
        """Apply an action's effects, move the machine, record and project (lock held)."""
        before = self._t.state
        seq = self._t.seq + 1
        message_ids: list[int] = []
        data: dict[str, Any] = {"label": action.label}
        if reason:
            data["reason"] = reason
        public = public_field_values(action, values)
        if public:
            data["fields"] = public
        for index, effect in enumerate(action.effects):
            self._apply(
                action, index, effect.type, effect.args, values, input, seq, message_ids, data
            )
        after = move(self._machine, action.id)
        self._enter(after)
        if message_ids:
            data["message_ids"] = message_ids
        self._record(
            "action",
            actor=input.actor.username,
            action=action.id,
            from_state=before,
            to_state=after,
            message_id=message_ids[0] if message_ids else None,
            data=data,
        )
        await self._project()
        return PerformActionResult(
            state=self._t.state, state_label=self._t.state_label, seq=self._t.seq
        )

    @perform_action.validator
    def _validate_perform_action(self, input: PerformActionInput) -> None:
        self._check(input)

    def _check(self, input: PerformActionInput) -> tuple[ActionSpec, dict[str, Any]]:
        """Reject an action that is unavailable, not permitted or badly filled in."""
        definition = self._process.definition
        if not self._ready:
            raise ApplicationError(
                "The ticket is still being created; try again in a moment.", type="NotReady"
            )
        state = definition.state(self._t.state)
        if input.expected_state is not None and input.expected_state != state.id:
            raise ApplicationError(
                f"The ticket has meanwhile moved to '{state.label}'; "
                "reload it to see what changed.",
                type="StateChanged",
            )
        action = definition.action(input.action)
        if action is None or action not in definition.actions_in(state.id):
            raise ApplicationError(
                f"The action '{input.action}' is not available while the ticket is "
                f"'{state.label}'.",
                type="ActionNotAvailable",
            )
        if input.actor.kind not in ("agent", "system") or not may_perform(
            definition, state.id, action, input.actor, self._t.assignee
        ):
            reason = (
                f" Only {self._t.assignee}, the assignee, may act on this ticket."
                if definition.assignee_only
                and self._t.assignee
                and may_perform(definition, state.id, action, input.actor)
                else ""
            )
            raise ApplicationError(
                f"You may not '{action.label}' tickets in state '{state.label}'.{reason}",
                type="ActionForbidden",
            )
        emails_customer = {"send_email", "portal_reply"}
        if any(e.type in emails_customer for e in action.effects) and not self._t.customer_email:
            raise ApplicationError(
                "This customer has no email address to reply to.", type="ActionNotAvailable"
            )
        try:
            values = clean_fields(action, input.fields, claimed=True)
        except FieldErrors as exc:
            raise ApplicationError(
                "Some fields are not filled in correctly.", exc.errors, type="InvalidFields"
            ) from None
        return action, values

    def _apply(
        self,
        action: ActionSpec,
        index: int,
        effect: str,
        args: Any,
        values: dict[str, Any],
        input: PerformActionInput,
        seq: int,
        message_ids: list[int],
        data: dict[str, Any],
    ) -> None:
        """Carry out one effect of an action (slow ones are queued for the run loop)."""
        author = input.actor.username
        if effect == "send_email":
            message_id = values.get(args["body_field"])
            if message_id is None:
                return
            message_ids.append(message_id)
            self._attachments.append(
                MessageAttachment(
                    message_id=message_id,
                    channel="email",
                    sender_role="agent",
                    internal=False,
                    author=author,
                    recipient=self._t.customer_email,
                    delivery_status="queued",
                )
            )
            self._outbox.append(
                OutboundMail(message_id, seq, to=self._t.customer_email, author=author)
            )
        elif effect == "portal_reply":
            # The reply lives in the portal; the customer's email only links to it.
            message_id = values.get(args["body_field"])
            if message_id is None:
                return
            message_ids.append(message_id)
            self._attachments.append(
                MessageAttachment(
                    message_id=message_id,
                    channel="portal",
                    sender_role="agent",
                    internal=False,
                    author=author,
                )
            )
            self._queue_template(
                action, index, args["template"], "customer", input, seq, values, message_id
            )
        elif effect in ("send_template", "notify_followers"):
            to_role = args.get("to", "followers")
            self._queue_template(action, index, args["template"], to_role, input, seq, values, None)
        elif effect == "add_note" or (effect == "forward" and args.get("note_field")):
            if effect == "forward":
                self._assign(action, args["field"], values, data)
            message_id = values.get(args["note_field" if effect == "forward" else "body_field"])
            if message_id is None:
                return
            message_ids.append(message_id)
            self._attachments.append(
                MessageAttachment(
                    message_id=message_id,
                    channel="note",
                    sender_role="agent",
                    internal=True,
                    author=author,
                )
            )
        elif effect == "assign":
            self._assign(action, args["field"], values, data)
        elif effect == "set_priority":
            value = values.get(args["field"])
            if value is not None:
                self._t.priority = int(value)
                data["priority"] = self._t.priority
        elif effect == "set_field":
            value = values.get(args["field"])
            name = args.get("name") or args["field"]
            if value is None:
                return
            self._t.fields = {**self._t.fields, name: value}
            data.setdefault("set", {})[name] = value

    def _assign(
        self, action: ActionSpec, field_id: str, values: dict[str, Any], data: dict[str, Any]
    ) -> None:
        value = values.get(field_id)
        spec = action.field(field_id)
        if value is None or spec is None:
            return
        if spec.type == "recipient":
            kind, _, name = value.partition(":")
        else:
            kind, name = ("group" if spec.type == "group" else "user"), value
        if kind == "group":
            # Forwarded to a group's queue: whoever in the group takes it next.
            self._t.group, self._t.assignee = name, None
            data["group"] = name
        else:
            self._t.assignee = name
            data["assignee"] = name

    def _queue_template(
        self,
        action: ActionSpec,
        index: int,
        template: str,
        to_role: str,
        input: PerformActionInput,
        seq: int,
        values: dict[str, Any],
        message_id: int | None,
    ) -> None:
        self._outbox.append(
            OutboundMail(
                message_id=message_id or 0,
                event_seq=seq,
                to="",
                author=input.actor.username,
                kind="template",
                template=template,
                to_role=to_role,
                effect_index=index,
                action_id=action.id,
                action_label=action.label,
                fields=public_field_values(action, values),
            )
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
        definition = compiled.definition
        ids = {s.id for s in definition.states}
        target = input.state_map.get(self._t.state) or (
            self._t.state if self._t.state in ids else ""
        )
        if not target:
            raise ApplicationError(
                f"The new version has no state '{self._t.state}'; map it to one.",
                type="UnmappedState",
            )
        if target not in ids:
            raise ApplicationError(
                f"The new version has no state '{target}'.", type="UnmappedState"
            )
        if definition.state(target).final:
            raise ApplicationError(
                f"'{target}' is a final state; close the ticket with an action instead.",
                type="UnmappedState",
            )
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
    async def customer_message(self, input: CustomerMessageInput) -> None:
        """The customer wrote (the body is stored already); the definition says where it moves."""
        if input.message_id in self._seen:
            return
        self._seen.append(input.message_id)
        del self._seen[:-SEEN_MESSAGES_KEPT]
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            before = self._t.state
            after = before
            if not self._finished and not input.auto_reply:
                after = move(self._machine, CUSTOMER_MESSAGE)
                self._enter(after)
            if input.rfc_message_id:
                self._t.customer_message_id = input.rfc_message_id
            channel = input.channel or self._t.channel
            author = input.author or self._t.customer_email
            self._attachments.append(
                MessageAttachment(
                    message_id=input.message_id,
                    channel=channel,
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

    # ------------------------------------------------------------------ effects

    async def _deliver(self, mail: OutboundMail) -> None:
        if mail.kind == "template":
            await self._deliver_template(mail)
        else:
            await self._deliver_reply(mail)

    async def _deliver_template(self, mail: OutboundMail) -> None:
        """Render and send a template to its recipients (each once, under its own Message-ID)."""
        try:
            result: SendTemplateResult = await workflow.execute_activity(
                ACT_SEND_TEMPLATE,
                SendTemplateInput(
                    ticket_number=self._t.number,
                    event_seq=mail.event_seq,
                    template=mail.template,
                    to_role=mail.to_role,
                    effect_index=mail.effect_index,
                    actor=mail.author,
                    action_id=mail.action_id,
                    action_label=mail.action_label,
                    fields=mail.fields,
                    message_id=mail.message_id or None,
                    auto_submitted=mail.auto_submitted or "auto-generated",
                ),
                result_type=SendTemplateResult,
                task_queue=MAIL_TASK_QUEUE,
                start_to_close_timeout=MAIL_START_TO_CLOSE,
                schedule_to_close_timeout=MAIL_SCHEDULE_TO_CLOSE,
                retry_policy=MAIL_RETRY,
            )
        except ActivityError as exc:
            cause = exc.cause
            detail = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
            result = SendTemplateResult(skipped=f"failed: {detail}")
        async with self._lock:
            for delivery in result.deliveries:
                self._attachments.append(
                    MessageAttachment(
                        message_id=delivery.message_id,
                        channel="email",
                        sender_role="system",
                        internal=mail.to_role != "customer",
                        author="system",
                        recipient=delivery.recipient,
                        delivery_status=delivery.status,
                    )
                )
                self._record(
                    "template_sent" if delivery.status == "sent" else "template_failed",
                    actor="system",
                    message_id=delivery.message_id,
                    data={
                        "template": mail.template,
                        "to": delivery.recipient,
                        "role": mail.to_role,
                        "smtp_message_id": delivery.smtp_message_id,
                        "detail": delivery.detail[:500],
                    },
                )
            if not result.deliveries:
                self._record(
                    "template_skipped",
                    actor="system",
                    data={
                        "template": mail.template,
                        "role": mail.to_role,
                        "detail": result.skipped,
                    },
                )
            await self._project()

    async def _deliver_reply(self, mail: OutboundMail) -> None:
        """Send a queued reply; a permanent failure is shown on the ticket, never retried."""
        subject = self._t.subject
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        try:
            result: SendMailResult = await workflow.execute_activity(
                ACT_SEND_MAIL,
                SendMailInput(
                    ticket_number=self._t.number,
                    event_seq=mail.event_seq,
                    message_id=mail.message_id,
                    to=mail.to,
                    subject=f"[{self._t.number}] {subject}",
                    in_reply_to=self._t.customer_message_id,
                ),
                result_type=SendMailResult,
                task_queue=MAIL_TASK_QUEUE,
                start_to_close_timeout=MAIL_START_TO_CLOSE,
                schedule_to_close_timeout=MAIL_SCHEDULE_TO_CLOSE,
                retry_policy=MAIL_RETRY,
            )
            status, detail, smtp_id = result.status, result.detail, result.smtp_message_id
        except ActivityError as exc:
            cause = exc.cause
            status = "failed"
            detail = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
            smtp_id = ""
        async with self._lock:
            self._attachments.append(
                MessageAttachment(
                    message_id=mail.message_id,
                    channel="email",
                    sender_role="agent",
                    internal=False,
                    author=mail.author,
                    recipient=mail.to,
                    delivery_status=status,
                )
            )
            self._record(
                "email_sent" if status == "sent" else "email_failed",
                actor="system",
                message_id=mail.message_id,
                data={"to": mail.to, "smtp_message_id": smtp_id, "detail": detail[:500]},
            )
            await self._project()

    # ------------------------------------------------------------------ bookkeeping

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

    def _index(self) -> None:
        """Upsert the search attributes that changed since the last upsert."""
        wanted: dict[str, Any] = {
            SA_STATE.name: self._t.state,
            SA_STATE_CATEGORY.name: self._t.state_category,
            SA_ASSIGNEE.name: self._t.assignee,
            SA_GROUP.name: self._t.group,
            SA_PRIORITY.name: self._t.priority,
            SA_PROCESS.name: f"{self._t.process_name}:{self._t.process_version}",
        }
        keys = (SA_STATE, SA_STATE_CATEGORY, SA_ASSIGNEE, SA_GROUP, SA_PRIORITY, SA_PROCESS)
        if not self._indexed:
            current = workflow.info().typed_search_attributes
            for key in keys:
                self._indexed[key.name] = current.get(key)
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in keys:
            value = wanted[key.name]
            if self._indexed.get(key.name) == value:
                continue
            self._indexed[key.name] = value
            updates.append(key.value_unset() if value is None else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)

    async def _project(self) -> None:
        """Write the snapshot and the new events to the database before anyone is answered."""
        self._index()
        events, messages = list(self._events), list(self._attachments)
        await workflow.execute_local_activity(
            ACT_PROJECT,
            ProjectionInput(snapshot=replace(self._t), events=events, messages=messages),
            start_to_close_timeout=LOCAL_TIMEOUT,
            retry_policy=LOCAL_RETRY,
        )
        del self._events[: len(events)]
        del self._attachments[: len(messages)]
