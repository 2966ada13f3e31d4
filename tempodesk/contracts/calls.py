"""Click-to-call between a ticket's workflow and the telephony activity."""

from __future__ import annotations

from dataclasses import dataclass


def call_key(ticket_number: str, event_seq: int) -> str:
    """The idempotency key (and the PBX's id) of the call a ticket's event asked for."""
    return f"td.{ticket_number}.{event_seq}"


@dataclass
class StartCallInput:
    """Ring ``agent``'s extension, then dial the customer. ``call_key`` is the call's
    idempotency key (``<ticket>.<event seq>``): one call per key, however often it is asked."""

    call_key: str
    agent: str
    ticket_number: str = ""
    contact_id: int | None = None
    number: str = ""  # the number to dial; empty: the contact's phone


@dataclass
class StartCallResult:
    """``status``: started, already (the key was placed before), unknown (an earlier try may
    have reached the PBX: not dialled again), failed (``detail`` says why)."""

    status: str
    record_id: int = 0
    detail: str = ""
