"""SMS payloads: one SMS to send (a stored message to one number) and how it went."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SendSmsInput:
    ticket_number: str
    event_seq: int
    message_id: int
    to: str  # E.164


@dataclass
class SendSmsResult:
    status: str  # sent | delivered | failed | unknown
    provider_message_id: str = ""
    detail: str = ""
    ambiguous: bool = False  # it may have gone twice (an answer lost, then one resend)
