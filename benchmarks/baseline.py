"""The bare-engine baseline: a trivial workflow shaped like a ticket, minus Tempodesk.

``BaselineWorkflow`` is started with update-with-start; its ``confirm_created`` update answers
once ``run()`` has executed three no-op local activities (a ticket runs link_customer,
choose_assignee and project_ticket). ``touch`` is an update whose handler runs one no-op local
activity (a ticket action runs project_ticket). No search attributes, no database, no HTTP.

Imported by workflow code inside the sandbox: keep this module free of I/O and heavy imports.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

BASELINE_TASK_QUEUE = "tempodesk-bench-baseline"
BASELINE_WORKFLOW = "BenchBaselineWorkflow"
ACT_NOOP = "bench_noop"
OPEN_LOCAL_ACTIVITIES = 3

# The same options as the ticket workflow's local activities (workflows/ticket.py).
LOCAL_TIMEOUT = timedelta(seconds=15)
LOCAL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)


@dataclass
class BaselineInput:
    name: str


@dataclass
class TouchInput:
    n: int


@activity.defn(name=ACT_NOOP)
def noop(step: str) -> str:
    """Does nothing, synchronously (in the activity thread pool, like TicketStore's steps)."""
    return step


@workflow.defn(name=BASELINE_WORKFLOW)
class BaselineWorkflow:
    @workflow.init
    def __init__(self, input: BaselineInput) -> None:
        self._ready = False
        self._done = False
        self._touches = 0
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, input: BaselineInput) -> int:
        async with self._lock:
            for step in range(OPEN_LOCAL_ACTIVITIES):
                await workflow.execute_local_activity(
                    ACT_NOOP,
                    f"open-{step}",
                    result_type=str,
                    start_to_close_timeout=LOCAL_TIMEOUT,
                    retry_policy=LOCAL_RETRY,
                )
            self._ready = True
        # Stay open, like a ticket waiting for its next action.
        await workflow.wait_condition(lambda: self._done)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._touches

    @workflow.update
    async def confirm_created(self, name: str) -> str:
        await workflow.wait_condition(lambda: self._ready)
        return name

    @workflow.update
    async def touch(self, input: TouchInput) -> int:
        async with self._lock:
            await workflow.execute_local_activity(
                ACT_NOOP,
                f"touch-{input.n}",
                result_type=str,
                start_to_close_timeout=LOCAL_TIMEOUT,
                retry_policy=LOCAL_RETRY,
            )
            self._touches += 1
            return self._touches

    @workflow.signal
    def finish(self) -> None:
        self._done = True
