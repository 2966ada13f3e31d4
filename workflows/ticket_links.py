"""Tickets linked to each other (related, duplicate, parent and child) and tagged.

The ticket asked (the ``link_ticket`` Update) tells the other (the ``linked`` signal, from
workflow code) and keeps the link in its snapshot; the other keeps it back. The asking
ticket's projection writes both rows of ``ticket_links``, so a link to a closed ticket
(whose workflow has ended and cannot be told) shows on both sides too. A parent whose child
link says ``wait`` keeps the child in ``open_children`` while it is open (the child tells it:
``child_settled``), and an action that would resolve or close the parent is refused until
none is left. Tags (``tag_ticket``) are the snapshot's sorted list; the projection writes
them to ``ticket_tags``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from statemachines import REJECTION_TEXTS, RESOLVED_CATEGORIES, ActionSpec, Rejection
    from statemachines.rights import ACT, holds
    from tempodesk.contracts import (
        LINK_INVERSE,
        LINK_KINDS,
        MERGED,
        SIGNAL_CHILD_SETTLED,
        SIGNAL_LINKED,
        Actor,
        ChildSettledInput,
        LinkedInput,
        LinkTicketInput,
        LinkTicketResult,
        PerformActionInput,
        TagTicketInput,
        TagTicketResult,
        TicketLinkRef,
    )
    from tempodesk.core.ids import ticket_workflow_id
    from workflows.ticket_core import TicketCore

LINK_REFUSED = "LinkRefused"
TAGS_REFUSED = "TagsRefused"


class TicketLinks(TicketCore):
    @workflow.update
    async def link_ticket(self, input: LinkTicketInput) -> LinkTicketResult:
        """Link this ticket to ``input.other`` (or unlink); the other is told first."""
        async with self._lock:
            self._check_link(input)
            current = next((ln for ln in self._t.links if ln.number == input.other), None)
            if (current is None) if input.remove else (current == self._ref(input)):
                return LinkTicketResult(list(self._t.links), self._t.seq)  # asked again
            told = LinkedInput(
                self._t.number,
                LINK_INVERSE[input.kind],
                input.actor.username,
                remove=input.remove,
                wait=input.wait,
                open=self._t.state_category not in RESOLVED_CATEGORIES,
            )
            other = workflow.get_external_workflow_handle(ticket_workflow_id(input.other))
            # A ticket whose run has ended (closed) is not told: the rows the projection
            # writes show the link there too.
            with contextlib.suppress(FailureError):
                await other.signal(SIGNAL_LINKED, told)
            self._keep_link(input.other, input.kind, input.remove, input.wait, input.other_open)
            seq = self._record(
                "unlinked" if input.remove else "linked",
                actor=input.actor.username,
                data={
                    "ticket": input.other,
                    "kind": input.kind,
                    "write": True,
                    "wait": input.wait and input.kind in ("parent", "child"),
                },
            )
            await self._project()
            return LinkTicketResult(list(self._t.links), seq)

    @link_ticket.validator
    def _validate_link_ticket(self, input: LinkTicketInput) -> None:
        self._check_link(input)

    def _check_link(self, input: LinkTicketInput) -> None:
        self._check_relating(input.actor, LINK_REFUSED)
        if input.kind not in LINK_KINDS:
            raise ApplicationError(f"Unknown kind of link '{input.kind}'.", type=LINK_REFUSED)
        if input.other == self._t.number:
            raise ApplicationError("A ticket cannot be linked to itself.", type=LINK_REFUSED)

    def _check_relating(self, actor: Actor, refusal: str) -> None:
        if not self._ready:
            raise ApplicationError("The ticket is still being created.", type=refusal)
        if not holds(actor, ACT):  # a read-only role reads, it does not relate
            raise ApplicationError(REJECTION_TEXTS["read_only"], type=refusal)
        if actor.kind != "agent" and not actor.is_admin:
            raise ApplicationError("Only agents may change this.", type=refusal)
        if self._finished:
            raise ApplicationError("This ticket is closed; it cannot be changed.", type=refusal)

    @staticmethod
    def _ref(input: LinkTicketInput) -> TicketLinkRef:
        return TicketLinkRef(
            input.other, input.kind, input.wait and input.kind in ("parent", "child")
        )

    def _keep_link(self, number: str, kind: str, remove: bool, wait: bool, open: bool) -> None:
        wait = wait and kind in ("parent", "child")
        self._t.links = [ln for ln in self._t.links if ln.number != number]
        self._t.open_children = [n for n in self._t.open_children if n != number]
        if not remove:
            self._t.links.append(TicketLinkRef(number, kind, wait))
            if wait and open and kind == "child":
                self._t.open_children.append(number)

    @workflow.signal
    async def linked(self, input: LinkedInput) -> None:
        """A fact: ticket ``input.number`` linked itself to this one (or unlinked)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._keep_link(input.number, input.kind, input.remove, input.wait, input.open)
            self._record(
                "unlinked" if input.remove else "linked",
                actor=input.actor,
                data={"ticket": input.number, "kind": input.kind},
            )
            await self._project()

    @workflow.signal
    async def child_settled(self, input: ChildSettledInput) -> None:
        """A fact: a child this ticket waits for was resolved (or opened again)."""
        waits = any(ln.number == input.number and ln.wait for ln in self._t.links)
        rest = [n for n in self._t.open_children if n != input.number]
        self._t.open_children = [*rest, input.number] if waits and input.open else rest

    async def _triggered(self, event: str, cause: int, automatic: bool = False) -> None:
        """A child whose parent waits for it tells the parent when its state changes."""
        if event == "state_changed":
            await self._settled()
        await super()._triggered(event, cause, automatic)

    async def _settled(self) -> None:
        """Tell the parents that wait for this ticket whether it is still open."""
        is_open = self._t.state_category not in (*RESOLVED_CATEGORIES, MERGED)
        told = ChildSettledInput(self._t.number, is_open)
        for link in self._t.links:
            if link.kind == "parent" and link.wait:
                parent = workflow.get_external_workflow_handle(ticket_workflow_id(link.number))
                with contextlib.suppress(FailureError):  # a parent that has ended waits not
                    await parent.signal(SIGNAL_CHILD_SETTLED, told)

    def _check(self, input: PerformActionInput) -> tuple[ActionSpec, dict[str, Any]] | Rejection:
        """As every action is checked, and: a parent is not resolved before its children."""
        checked = super()._check(input)
        if isinstance(checked, Rejection) or not self._t.open_children:
            return checked
        action = checked[0]
        if action.stays:
            return checked
        if self._process.definition.state(action.target).category in RESOLVED_CATEGORIES:
            return Rejection("children_open", {"children": ", ".join(self._t.open_children)})
        return checked

    @workflow.update
    async def tag_ticket(self, input: TagTicketInput) -> TagTicketResult:
        """Add and remove tags (normalised by the caller)."""
        async with self._lock:
            self._check_relating(input.actor, TAGS_REFUSED)
            tags = sorted((set(self._t.tags) | set(input.add)) - set(input.remove))
            if tags == self._t.tags:
                return TagTicketResult(tags, self._t.seq)
            added = [t for t in tags if t not in self._t.tags]
            removed = [t for t in self._t.tags if t not in tags]
            self._t.tags = tags
            seq = self._record(
                "tagged",
                actor=input.actor.username,
                data={"added": added, "removed": removed, "tags": tags},
            )
            await self._project()
            return TagTicketResult(tags, seq)

    @tag_ticket.validator
    def _validate_tag_ticket(self, input: TagTicketInput) -> None:
        self._check_relating(input.actor, TAGS_REFUSED)
