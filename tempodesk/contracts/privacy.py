"""Retention: the schedule that forgets old closed tickets, its workflow and activity.
Only counts travel through history; the tickets are chosen and changed in the database."""

from __future__ import annotations

from dataclasses import dataclass

RETENTION_WORKFLOW = "RetentionWorkflow"
RETENTION_SCHEDULE_ID = "tempodesk-retention"
ACT_APPLY_RETENTION = "apply_retention"


@dataclass
class RetentionRunInput:
    """Nothing to say: the rule (months, mode) is read from the settings by the activity, so
    a changed setting applies from the next run without touching the schedule."""

    batches: int = 50  # at most this many batches per run (then the next run goes on)


@dataclass
class RetentionBatchResult:
    tickets: int = 0  # forgotten in this batch (0: nothing is due)
    workflow_runs_deleted: int = 0


@dataclass
class RetentionResult:
    tickets: int = 0
    workflow_runs_deleted: int = 0
