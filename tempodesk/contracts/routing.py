"""A ticket routed again: by an agent's bulk re-routing (an Update) or by its group's
timeout without action (a durable timer in the ticket)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tempodesk.contracts.tickets import TicketSnapshot

ACT_ROUTE_TICKET = "route_ticket"
UPDATE_REROUTE = "reroute"


@dataclass
class RerouteInput:
    """Route this ticket again: the rules, then its group's strategy (not to ``actor``'s
    choice: the rules decide)."""

    actor: str = "system"
    reason: str = ""


@dataclass
class RerouteResult:
    assignee: str | None
    group: str | None
    seq: int


@dataclass
class RouteTicketInput:
    ticket: TicketSnapshot
    at: str  # the workflow's now (ISO): working hours are read at that moment
    exclude: str = ""  # the agent who let it wait: someone else gets it if anyone can


@dataclass
class RouteTicketResult:
    assignee: str | None
    group: str | None
    notes: list[str] = field(default_factory=list)
    reroute_minutes: int = 0
