"""The desk panel's counts, kept per agent for a few seconds.

Thirteen counts over 100k tickets take longer than the rest of a list page together, and an
agent clicking from list to list does not need them counted again each time: the page shows
the counts kept here (or none, and fetches them after the page), and the counts endpoint
counts afresh and keeps the result. Kept per web process, keyed by everything that decides
what the agent sees (name, groups, admin) and by the panel's entries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from tempodesk.contracts import Actor

#: Agents whose counts a process keeps at most (then the oldest expired ones go first).
MAX_AGENTS = 2000

CountKey = tuple[str, tuple[str, ...], bool, tuple[str, ...]]


class CountCache:
    """Per process, thread-safe (a gunicorn worker serves several threads)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[CountKey, tuple[float, dict[str, int]]] = {}

    @staticmethod
    def _key(actor: Actor, keys: Sequence[str]) -> CountKey:
        return (actor.username, tuple(sorted(actor.groups)), actor.is_admin, tuple(keys))

    def get(self, actor: Actor, keys: Sequence[str]) -> dict[str, int] | None:
        """The counts kept for this agent and panel, if younger than ``ttl``."""
        with self._lock:
            held = self._kept.get(self._key(actor, keys))
        if held is None or self._clock() - held[0] >= self.ttl:
            return None
        return dict(held[1])

    def put(self, actor: Actor, keys: Sequence[str], sizes: dict[str, int]) -> None:
        if self.ttl <= 0:
            return
        now = self._clock()
        with self._lock:
            if len(self._kept) >= MAX_AGENTS:
                for key in [k for k, (at, _) in self._kept.items() if now - at >= self.ttl]:
                    del self._kept[key]
                if len(self._kept) >= MAX_AGENTS:
                    self._kept.clear()
            self._kept[self._key(actor, keys)] = (now, dict(sizes))
