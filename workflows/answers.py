"""Answers to actions by their Update id, carried from run to run of a ticket.

Temporal dedupes an Update id only within one run. An agent's retry after a 503 may reach
the next run (continue-as-new), so the workflow keeps the latest answers in its carried input
and answers a known id from here instead of performing the action again.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import AnsweredRequest, PerformActionResult

# A retry comes within minutes; a hundred answers outlast that on the busiest ticket.
ANSWERED_KEPT = 100


class Answers:
    def __init__(self, carried: list[AnsweredRequest]):
        self.kept = list(carried)

    def before(self) -> PerformActionResult | None:
        """The current Update's answer if an action was performed under its id (any run)."""
        info = workflow.current_update_info()
        if info is None:
            return None
        for done in self.kept:
            if done.request_id == info.id:
                return PerformActionResult(done.state, done.state_label, done.seq)
        return None

    def remember(self, result: PerformActionResult) -> None:
        info = workflow.current_update_info()
        if info is not None:
            self.kept.append(AnsweredRequest(info.id, result.state, result.state_label, result.seq))
            del self.kept[:-ANSWERED_KEPT]
