"""The retention rule's activity: one batch of old closed tickets forgotten in the database,
then their workflows' histories deleted through the worker's client (``Dispatch``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from tempodesk.contracts.privacy import ACT_APPLY_RETENTION, RetentionBatchResult
from tempodesk.core.db import transaction
from tempodesk.core.settings import Settings
from tempodesk.privacy.forget import Forgotten, Mode
from tempodesk.privacy.retention import apply_retention


class PrivacyActivities:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        delete_workflows: Callable[[list[str]], Awaitable[int]],
    ):
        self.sessions = sessions
        self.settings = settings
        self.delete_workflows = delete_workflows

    def _batch(self) -> Forgotten:
        mode: Mode = "delete" if self.settings.retention_mode == "delete" else "anonymise"
        with transaction(self.sessions) as session:
            return apply_retention(
                session,
                now=datetime.now(UTC),
                months=self.settings.retention_months,
                mode=mode,
            )

    @activity.defn(name=ACT_APPLY_RETENTION)
    async def apply_retention(self) -> RetentionBatchResult:
        """Forget one batch of due tickets; 0 tickets when nothing is due (or retention is off)."""
        if self.settings.retention_months <= 0:
            return RetentionBatchResult()
        done = await asyncio.to_thread(self._batch)
        deleted = await self.delete_workflows(done.workflow_ids) if done.workflow_ids else 0
        return RetentionBatchResult(len(done.tickets), deleted)
