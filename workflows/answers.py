"""Answers to actions by their Update id, carried from run to run of a ticket.

Temporal dedupes an Update id only within one run. An agent's retry after a 503 may reach
the next run (continue-as-new), so the workflow keeps the latest answers in its carried input
and answers a known id from here instead of performing the action again.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import PerformActionResult

# A retry comes within minutes; a hundred answers outlast that on the busiest ticket.
ANSWERED_KEPT = 100


class Answers:
    def __init__(self, carried: dict[str, PerformActionResult]):
        self.kept = dict(carried)

    def before(self) -> PerformActionResult | None:
        """The current Update's answer if an action was performed under its id (any run)."""
        info = workflow.current_update_info()
        return self.kept.get(info.id) if info is not None else None

    def remember(self, result: PerformActionResult) -> None:
        info = workflow.current_update_info()
        if info is None:
            return
        self.kept[info.id] = result
        if len(self.kept) > ANSWERED_KEPT:
            # The oldest answer goes (by its event number: the carried dict's order is not
            # kept, Temporal's converter sorts its keys).
            oldest = min(self.kept, key=lambda request_id: self.kept[request_id].seq)
            del self.kept[oldest]
