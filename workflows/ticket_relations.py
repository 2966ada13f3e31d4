"""Tickets in relation to each other: one merged into another, a message split off.

The ticket that goes is asked (the ``merge_into`` Update): it tells the ticket that stays
(the ``absorb_ticket`` signal, from workflow code, so Temporal sends it exactly once even if
a worker dies between the two halves), then ends in the state ``merged`` with a pointer to
the survivor. Both projections move the merged ticket's messages to the survivor (an
idempotent UPDATE by ticket number, whichever runs first); the survivor absorbs a ticket
once (``merged_from``). Its timeline events stay numbered by their own workflow and are
shown on the survivor's timeline (``tickets.queries.get_ticket``).

A split is asked of the ticket the message leaves (``split_message``) once the web has
opened the new ticket with a copy of its text: it tells the new ticket (``split_in``),
records ``split_off`` and projects; its projection moves the rest of the message there.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from statemachines import REJECTION_TEXTS
    from statemachines.rights import ACT, holds
    from tempodesk.contracts import (
        MERGED,
        SIGNAL_ABSORB_TICKET,
        SIGNAL_SPLIT_IN,
        AbsorbTicketInput,
        MergeTicketInput,
        MergeTicketResult,
        SplitInInput,
        SplitMessageInput,
        SplitMessageResult,
    )
    from tempodesk.core.ids import ticket_workflow_id
    from workflows import sla
    from workflows.ticket_core import TicketCore

MERGE_REFUSED = "MergeRefused"
SPLIT_REFUSED = "SplitRefused"


class TicketRelations(TicketCore):
    @workflow.update
    async def merge_into(self, input: MergeTicketInput) -> MergeTicketResult:
        """Merge this ticket into ``input.into``: the survivor is told first, so a survivor
        that has ended refuses the merge before anything here changed."""
        async with self._lock:
            if self._t.merged_into == input.into:
                return MergeTicketResult(input.into, self._t.seq)  # asked again: done once
            self._check_merge(input)
            survivor = workflow.get_external_workflow_handle(ticket_workflow_id(input.into))
            told = AbsorbTicketInput(self._t.number, self._t.subject, input.actor.username)
            try:
                await survivor.signal(SIGNAL_ABSORB_TICKET, told)
            except FailureError:
                raise ApplicationError(
                    f"Ticket {input.into} is closed; it cannot take another ticket.",
                    type=MERGE_REFUSED,
                ) from None
            before = self._t.state
            self._t.merged_into = input.into
            self._t.state = self._t.state_category = MERGED
            self._t.state_label = "Merged"
            self._t.state_entry += 1
            self._t.state_entered_at = workflow.now().isoformat()
            sla.clocks(self).entered(workflow.now(), MERGED, True)  # every clock stops
            seq = self._record(
                "merged",
                actor=input.actor.username,
                from_state=before,
                to_state=MERGED,
                data={"into": input.into},
            )
            await self._settled()  # a parent waiting for it waits no more
            await self._project()
            return MergeTicketResult(input.into, seq)

    @merge_into.validator
    def _validate_merge_into(self, input: MergeTicketInput) -> None:
        if self._t.merged_into != input.into:
            self._check_merge(input)

    def _check_merge(self, input: MergeTicketInput) -> None:
        if not self._ready:
            raise ApplicationError("The ticket is still being created.", type=MERGE_REFUSED)
        if input.actor.kind != "agent" and not input.actor.is_admin:
            raise ApplicationError("Only agents may merge tickets.", type=MERGE_REFUSED)
        if not holds(input.actor, ACT):
            raise ApplicationError(REJECTION_TEXTS["read_only"], type=MERGE_REFUSED)
        if input.into == self._t.number:
            raise ApplicationError("A ticket cannot be merged into itself.", type=MERGE_REFUSED)
        if self._finished:
            raise ApplicationError(
                "This ticket is closed; it cannot be merged.", type=MERGE_REFUSED
            )

    @workflow.signal
    async def absorb_ticket(self, input: AbsorbTicketInput) -> None:
        """A fact: ticket ``input.number`` was merged into this one (its messages move here)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            if input.number in self._t.merged_from or input.number == self._t.number:
                return
            self._t.merged_from.append(input.number)
            self._record(
                "merged_in",
                actor=input.actor,
                data={"ticket": input.number, "subject": input.subject},
            )
            await self._project()

    @workflow.update
    async def split_message(self, input: SplitMessageInput) -> SplitMessageResult:
        """Split message ``input.message_id`` off into the new ticket ``input.into``."""
        async with self._lock:
            if input.message_id in self._t.split_off:
                return SplitMessageResult(input.into, self._t.seq)  # asked again: done once
            self._check_split(input)
            told = SplitInInput(self._t.number, input.copy_id, input.actor.username)
            new = workflow.get_external_workflow_handle(ticket_workflow_id(input.into))
            try:
                await new.signal(SIGNAL_SPLIT_IN, told)
            except FailureError:
                raise ApplicationError(
                    f"Ticket {input.into} is closed; it cannot take the message.",
                    type=SPLIT_REFUSED,
                ) from None
            self._t.split_off = [*self._t.split_off, input.message_id]
            seq = self._record(
                "split_off",
                actor=input.actor.username,
                data={
                    "message_id": input.message_id,
                    "into": input.into,
                    "copy_id": input.copy_id,
                },
            )
            await self._project()
            return SplitMessageResult(input.into, seq)

    @split_message.validator
    def _validate_split_message(self, input: SplitMessageInput) -> None:
        if input.message_id not in self._t.split_off:
            self._check_split(input)

    def _check_split(self, input: SplitMessageInput) -> None:
        if not self._ready:
            raise ApplicationError("The ticket is still being created.", type=SPLIT_REFUSED)
        if input.actor.kind != "agent" and not input.actor.is_admin:
            raise ApplicationError("Only agents may split tickets.", type=SPLIT_REFUSED)
        if not holds(input.actor, ACT):
            raise ApplicationError(REJECTION_TEXTS["read_only"], type=SPLIT_REFUSED)
        if input.message_id == self._t.first_message_id:
            raise ApplicationError(
                "The ticket's first message cannot be split off.", type=SPLIT_REFUSED
            )
        if self._finished:
            raise ApplicationError("This ticket is closed; it cannot be split.", type=SPLIT_REFUSED)

    @workflow.signal
    async def split_in(self, input: SplitInInput) -> None:
        """A fact: this ticket was opened with a message split off ticket ``input.number``."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._record(
                "split_in",
                actor=input.actor,
                data={"ticket": input.number, "message_id": input.message_id},
            )
            await self._project()
