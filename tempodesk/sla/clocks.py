"""A ticket's service-level clocks: pure bookkeeping the ticket workflow holds (and the
opening's local activity, which starts them in the same transaction that picks the policy).

Every method takes the moment (``workflow.now()`` in the workflow) and changes the
``SlaState`` the ticket's snapshot carries; nothing here waits or reads a clock, so the
rules are plain unit tests (tests/tempodesk/sla/test_clocks.py) and the workflow only asks
``next_moment`` for its timer and ``fire`` when it rings.

The rules (README "SLAs"):
- first response runs from the opening until the first public reply to the customer;
- next response starts at a customer message after a public reply (while none runs) and is
  met by the next public reply;
- resolution runs until the ticket reaches a resolved, closed or merged state; reopened, a
  new cycle starts with the whole target;
- a state with ``sla_paused`` stops every running clock; business time used is kept and on
  resuming the due moment is computed again from then with what is left;
- a warning (at ``warn_percent`` of the target) and a breach fire once per cycle; a breached
  clock stays breached when met, with how late it was met.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from statemachines.calendar import Calendar, CalendarError, NoBusinessTime
from tempodesk.contracts import PinnedSla, SlaClock, SlaState

#: Categories in which the ticket's resolution target is met.
RESOLVED = ("resolved", "closed", "merged")


@dataclass(frozen=True)
class Firing:
    """A warning or a breach that is due: ``kind`` "sla_warning" | "sla_breached"."""

    kind: str
    clock: SlaClock


@lru_cache(maxsize=32)
def _calendar(document: str) -> Calendar:
    return Calendar.from_dict(json.loads(document))


def calendar_of(policy: PinnedSla) -> Calendar:
    """The policy's calendar (cached by its document; an unreadable one is every hour)."""
    try:
        return _calendar(json.dumps(policy.calendar, sort_keys=True))
    except CalendarError:
        return Calendar.always()


def calendar_from(document: dict[str, Any]) -> Calendar:
    """A calendar's document read (cached; an empty or unreadable one is every hour)."""
    if not document:
        return Calendar.always()
    try:
        return _calendar(json.dumps(document, sort_keys=True))
    except CalendarError:
        return Calendar.always()


def _iso(at: datetime | None) -> str:
    return at.isoformat() if at is not None else ""


def _at(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class SlaClocks:
    """The clocks of one ticket, kept in ``state`` (the snapshot's ``sla``)."""

    def __init__(self, state: SlaState) -> None:
        self.state = state

    # What happens to a ticket

    def pin(self, policy: PinnedSla | None, now: datetime, category: str, paused: bool) -> bool:
        """Run under ``policy`` from now (the opening, or a re-selection); False if unchanged.
        Time used so far is kept; a target new to the ticket counts from now."""
        now = now.replace(microsecond=0)  # whole seconds: used time adds up exactly
        old = self.state.policy
        if old is None and policy is None:
            return False
        if (
            old is not None
            and policy is not None
            and (old.policy_id, old.revision)
            == (
                policy.policy_id,
                policy.revision,
            )
        ):
            return False
        for clock in self.state.clocks:
            self._stop_running(clock, now)  # used time measured in the old calendar
        self.state.policy = policy
        if policy is None:
            self.state.clocks = []
            return True
        self.state.clocks = [c for c in self.state.clocks if c.target in policy.targets]
        wanted = {
            "first_response": not self.state.replied,
            "next_response": self.state.replied and self.state.awaiting_reply,
            "resolution": category not in RESOLVED,
        }
        for target, on in wanted.items():
            if on and target in policy.targets and self.state.clock(target) is None:
                self.state.clocks.append(SlaClock(target, "paused", started_at=_iso(now)))
        self._order()
        for clock in self.state.clocks:
            if not clock.met_at:
                self._resume(clock, now, paused)
        return True

    def entered(self, now: datetime, category: str, paused: bool) -> None:
        """The ticket is in a state of ``category`` now: pause, resume, meet or reopen."""
        now = now.replace(microsecond=0)  # whole seconds: used time adds up exactly
        if self.state.policy is None:
            return
        resolution = self.state.clock("resolution")
        if category in RESOLVED:
            if resolution is not None:
                self._meet(resolution, now)
        elif resolution is not None and resolution.met_at:
            self._restart(resolution, now)
        elif resolution is None and "resolution" in self.state.policy.targets:
            self._add("resolution", now)
        for clock in self.state.clocks:
            if clock.met_at:
                continue
            if paused and clock.running_since:
                self._stop_running(clock, now)
                if clock.state == "running":
                    clock.state = "paused"
            elif not paused and not clock.running_since:
                self._resume(clock, now, paused)

    def replied(self, now: datetime) -> None:
        """A public reply went to the customer: first and next response are met."""
        now = now.replace(microsecond=0)  # whole seconds: used time adds up exactly
        self.state.replied = True
        self.state.awaiting_reply = False
        for target in ("first_response", "next_response"):
            clock = self.state.clock(target)
            if clock is not None and not clock.met_at:
                self._meet(clock, now)

    def customer_wrote(self, now: datetime, paused: bool) -> None:
        """The customer wrote: after a public reply, the next response's clock starts."""
        now = now.replace(microsecond=0)  # whole seconds: used time adds up exactly
        if not self.state.replied or self.state.awaiting_reply:
            return
        self.state.awaiting_reply = True
        policy = self.state.policy
        if policy is None or "next_response" not in policy.targets:
            return
        clock = self.state.clock("next_response")
        if clock is None:
            self._add("next_response", now, paused)
        elif clock.met_at:
            self._restart(clock, now, paused)

    # The timer

    def next_moment(self) -> datetime | None:
        """The earliest warning or due moment still to come (None: nothing to wait for)."""
        moments = [m for c in self.state.clocks for m in self._moments(c)]
        return min(moments) if moments else None

    def fire(self, now: datetime) -> list[Firing]:
        """The warnings and breaches whose moment has come, each marked so it fires once."""
        fired: list[Firing] = []
        for clock in self.state.clocks:
            if clock.met_at or not clock.running_since:
                continue
            warn_at, due_at = _at(clock.warn_at), _at(clock.due_at)
            if not clock.warned and warn_at is not None and warn_at <= now:
                clock.warned = True
                fired.append(Firing("sla_warning", clock))
            if not clock.breached and due_at is not None and due_at <= now:
                clock.warned = clock.breached = True
                clock.state = "breached"
                fired.append(Firing("sla_breached", clock))
        return fired

    def index(self) -> tuple[bool | None, datetime | None]:
        """The search attributes' values: any target breached, the earliest running due."""
        if self.state.policy is None:
            return None, None
        breached = any(c.breached for c in self.state.clocks)
        dues = [
            d
            for c in self.state.clocks
            if c.state == "running" and (d := _at(c.due_at)) is not None
        ]
        return breached, min(dues) if dues else None

    # Inside

    def _moments(self, clock: SlaClock) -> list[datetime]:
        if clock.met_at or not clock.running_since:
            return []
        found = []
        if not clock.warned and (warn_at := _at(clock.warn_at)) is not None:
            found.append(warn_at)
        if not clock.breached and (due_at := _at(clock.due_at)) is not None:
            found.append(due_at)
        return found

    def _add(self, target: str, now: datetime, paused: bool = False) -> None:
        clock = SlaClock(target, "paused", started_at=_iso(now))
        self.state.clocks.append(clock)
        self._order()
        self._resume(clock, now, paused)

    def _restart(self, clock: SlaClock, now: datetime, paused: bool = False) -> None:
        """A new cycle of the same target: the whole target again, flags cleared."""
        fresh = SlaClock(clock.target, "paused", cycle=clock.cycle + 1, started_at=_iso(now))
        self.state.clocks[self.state.clocks.index(clock)] = fresh
        self._resume(fresh, now, paused)

    def _meet(self, clock: SlaClock, now: datetime) -> None:
        self._stop_running(clock, now)
        clock.met_at = _iso(now)
        due_at = _at(clock.due_at)
        if clock.breached and due_at is not None:
            clock.breached_by_seconds = max(0, int((now - due_at).total_seconds()))
        else:
            clock.state = "met"

    def _resume(self, clock: SlaClock, now: datetime, paused: bool) -> None:
        """Run from now (unless the state pauses): due when the target's rest is used up."""
        policy = self.state.policy
        if paused or policy is None or clock.met_at:
            if clock.state == "running":
                clock.state = "paused"
            if not clock.breached:
                clock.due_at = clock.warn_at = ""
            return
        calendar = calendar_of(policy)
        target = policy.targets.get(clock.target, 0)
        clock.running_since = _iso(now)
        if not clock.breached:
            clock.state = "running"
            clock.due_at = _iso(_add(calendar, now, target - clock.used_seconds))
        if not clock.warned and 0 < policy.warn_percent < 100:
            warn = target * policy.warn_percent // 100 - clock.used_seconds
            clock.warn_at = _iso(_add(calendar, now, warn))

    def _stop_running(self, clock: SlaClock, now: datetime) -> None:
        since, policy = _at(clock.running_since), self.state.policy
        if since is None or policy is None:
            return
        used = calendar_of(policy).between(since, now)
        clock.used_seconds += int(used.total_seconds())
        clock.running_since = ""
        if not clock.breached:
            clock.due_at = clock.warn_at = ""

    def _order(self) -> None:
        order = {"first_response": 0, "next_response": 1, "resolution": 2}
        self.state.clocks.sort(key=lambda c: order.get(c.target, 9))


def _add(calendar: Calendar, start: datetime, seconds: int) -> datetime | None:
    try:
        return calendar.add(start, timedelta(seconds=max(seconds, 0)))
    except NoBusinessTime:
        return None
