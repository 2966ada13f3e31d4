"""How a group hands out a new ticket, pure: the candidates (members with their open
tickets, availability and skill level) in, one agent and the reason out.

- manual: nobody; the ticket waits in the group's queue.
- round_robin: the next available agent after the last one given a ticket (by username).
- least_open: the available agent with the fewest open tickets (then by username).
- skills: the available agents with the ticket's required skill: the best level, then the
  fewest open tickets (without a required skill: as least_open).

Away and off agents, and those at the group's cap of open tickets, get nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

STRATEGIES = ("manual", "round_robin", "least_open", "skills")
AVAILABILITY = ("present", "away", "off")


@dataclass
class Candidate:
    username: str
    open_tickets: int = 0
    available: bool = True
    skill_level: int = 0  # of the ticket's required skill; 0: does not have it


@dataclass
class Choice:
    assignee: str | None
    reason: str


def eligible(candidates: list[Candidate], max_open: int) -> list[Candidate]:
    """Present agents under the cap, by username."""
    return sorted(
        (c for c in candidates if c.available and (max_open <= 0 or c.open_tickets < max_open)),
        key=lambda c: c.username,
    )


def choose(
    strategy: str,
    candidates: list[Candidate],
    *,
    last: str = "",
    max_open: int = 0,
    skill: str = "",
) -> Choice:
    """The agent ``strategy`` gives the ticket to, or nobody (with the reason)."""
    if strategy not in STRATEGIES or strategy == "manual":
        return Choice(None, "manual: the ticket waits in the queue")
    pool = eligible(candidates, max_open)
    if not pool:
        return Choice(None, f"{strategy}: nobody is available under the cap")
    if strategy == "round_robin":
        after = [c for c in pool if c.username > last]
        return Choice((after or pool)[0].username, "round robin")
    if strategy == "skills" and skill:
        skilled = [c for c in pool if c.skill_level > 0]
        if not skilled:
            return Choice(None, f"skills: nobody available has skill '{skill}'")
        best = min(skilled, key=lambda c: (-c.skill_level, c.open_tickets, c.username))
        return Choice(
            best.username,
            f"skill '{skill}' at level {best.skill_level}, {best.open_tickets} open tickets",
        )
    best = min(pool, key=lambda c: (c.open_tickets, c.username))
    return Choice(best.username, f"least open tickets ({best.open_tickets})")
