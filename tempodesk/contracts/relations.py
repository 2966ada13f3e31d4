"""Tickets in relation to each other: one merged into another."""

from __future__ import annotations

from dataclasses import dataclass

from tempodesk.contracts.tickets import Actor

#: The state (and state category) a merged ticket ends in, whatever its process: merging is
#: not a process action, so no definition needs to name it.
MERGED = "merged"


@dataclass
class MergeTicketInput:
    """Asked of the ticket that goes (an Update): merge into ticket ``into``."""

    into: str
    actor: Actor


@dataclass
class MergeTicketResult:
    into: str
    seq: int  # the merged ticket's "merged" event


@dataclass
class AbsorbTicketInput:
    """Told to the ticket that stays (a signal from the merged ticket's workflow): ticket
    ``number`` is merged into you. Its messages move to you (the projection); the same
    ticket told twice is absorbed once."""

    number: str
    subject: str = ""
    actor: str = ""
