"""What the ticket's workflow is told (signals): a customer's message, another contact, a
rating, a changed SLA policy."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from statemachines import CUSTOMER_MESSAGE, move
    from tempodesk.contracts import (
        SIGNAL_CUSTOMER_MESSAGE,
        CustomerMessageInput,
        MessageLink,
        RateInput,
        RelinkContactInput,
        SlaChangedInput,
    )
    from tempodesk.core.ids import ticket_workflow_id
    from workflows import sla
    from workflows.closed import redirect
    from workflows.rating import take_rating
    from workflows.ticket_core import TicketCore

SEEN_MESSAGES_KEPT = 500


class TicketSignals(TicketCore):
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
    async def sla_changed(self, input: SlaChangedInput) -> None:
        """A fact: a policy or calendar changed; choose the policy again and re-arm."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            await sla.reselect(self, input.reason or "policy changed", project=True)

    @workflow.signal
    async def customer_message(self, input: CustomerMessageInput) -> None:
        """The customer wrote (the body is stored already); the definition says where it moves."""
        if input.message_id in self._seen:
            return
        self._seen.append(input.message_id)
        del self._seen[:-SEEN_MESSAGES_KEPT]
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            if self._t.merged_into:  # merged just now: the survivor takes it (and attaches it)
                survivor = workflow.get_external_workflow_handle(
                    ticket_workflow_id(self._t.merged_into)
                )
                return await survivor.signal(SIGNAL_CUSTOMER_MESSAGE, input)
            closed = self._finished and not input.auto_reply
            if closed and input.if_closed == "reopen":
                self._reopen()  # as a new run would, had this one ended already
            elif closed and input.if_closed == "new":  # a new ticket; this one stays closed
                number = await redirect(self._t.number, input.message_id)
                if number:  # else (the mail unreadable now) it stays here
                    actor = input.author or self._t.customer_email
                    self._record("message_redirected", actor=actor, data={"ticket": number})
                    await self._project()
                    return
            before = self._t.state
            after = before
            if not self._finished and not input.auto_reply:
                after = move(self._machine, CUSTOMER_MESSAGE)
                self._enter(after)
                sla.customer_wrote(self)
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
            seq = self._record(
                CUSTOMER_MESSAGE,
                actor=author,
                from_state=before,
                to_state=after,
                message_id=input.message_id,
                data={"auto_reply": True} if input.auto_reply else None,
            )
            if not input.auto_reply:
                self._active(seq)
                await self._triggered(CUSTOMER_MESSAGE, seq, automatic=input.automatic)
            await self._project()
