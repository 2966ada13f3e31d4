"""Routing's reference data: the admins' rules that send new tickets to a queue, how each
group hands out its work (a strategy, a cap, a re-routing timeout), agents' availability
and skills, and triggers (admin-defined rules tickets run on their events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class RoutingRule(Base):
    """Conditions on a new ticket and what to set when they all hold; the first matching
    enabled rule by ``position`` wins unless it says to continue (``stop`` false)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the API's "set"
    stop: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class GroupRouting(Base):
    """How a group hands out new tickets. ``rr_last`` is round robin's memory; its row is
    locked (updated first) by every opening that assigns in the group, so concurrent
    openings take turns."""

    __tablename__ = "group_routing"

    group_name: Mapped[str] = mapped_column(
        ForeignKey("groups.name", ondelete="CASCADE"), primary_key=True
    )
    strategy: Mapped[str] = mapped_column(String(16), default="manual")
    max_open: Mapped[int] = mapped_column(Integer, default=0)  # per agent; 0: no cap
    reroute_minutes: Mapped[int] = mapped_column(Integer, default=0)  # 0: never
    rr_last: Mapped[str] = mapped_column(String(64), default="")
    turns: Mapped[int] = mapped_column(Integer, default=0)


class AgentRouting(Base):
    """An agent's availability (present / away / off) and the calendar of their working
    hours (a name in ``calendars``; none: always)."""

    __tablename__ = "agent_routing"

    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    availability: Mapped[str] = mapped_column(String(8), default="present")
    calendar: Mapped[str] = mapped_column(String(100), default="")


class AgentSkill(Base):
    """A skill an agent has, at a level of 1 (basic) to 5 (expert)."""

    __tablename__ = "agent_skills"

    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=1)


class Trigger(Base):
    """One trigger: on an event of a ticket, when its conditions hold, its actions in order
    (``tempodesk.routing.triggers``; a ticket pins the list when it opens and is told of
    changes)."""

    __tablename__ = "triggers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    on: Mapped[str] = mapped_column(String(32))
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    # An idle trigger: after this many business hours without activity, in the ticket's SLA
    # calendar, else the calendar named here ("": around the clock).
    hours: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    calendar: Mapped[str] = mapped_column(String(100), default="", server_default="")
