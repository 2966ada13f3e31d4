"""Bulk messages: the sending workflow and its activities. Only ids and counts travel through
history; addresses and texts stay in the database."""

from __future__ import annotations

from dataclasses import dataclass, field

BULK_WORKFLOW = "BulkMessageWorkflow"
ACT_BULK_PREPARE = "bulk_prepare"
ACT_BULK_PENDING = "bulk_pending"
ACT_BULK_SEND = "bulk_send"
ACT_BULK_FINISH = "bulk_finish"


@dataclass
class BulkRunInput:
    bulk_id: int
    sent: int = 0  # carried over continue-as-new


@dataclass
class BulkPendingResult:
    recipient_ids: list[int] = field(default_factory=list)


@dataclass
class BulkSendInput:
    recipient_id: int


@dataclass
class BulkSendResult:
    status: str = ""  # sent | skipped | failed | done (sent before)


@dataclass
class BulkResult:
    sent: int = 0
