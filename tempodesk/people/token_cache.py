"""API tokens remembered for a few seconds: one database lookup per token and window, not one
per request.

What is remembered is what a request needs to act (the user's id and name, the Actor the
workflow checks rights against, the token's scopes), keyed by the token's hash, never the
token. Only tokens that were valid are remembered: a wrong or new token always asks the
database. The price is the window: a token revoked, a user deactivated or moved to another
group in the database is honoured by every web process within ``ttl`` seconds (README.md,
"REST API").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from tempodesk.contracts import Actor
from tempodesk.people import accounts

#: Most tokens a process remembers (integrations hold a handful; a flood of valid tokens
#: only costs a lookup each once this is full).
MAX_TOKENS = 1000


@dataclass(frozen=True)
class TokenGrant:
    """Who a valid token acts as, and what it may do."""

    user_id: int
    username: str
    actor: Actor
    scopes: frozenset[str]

    def actor_copy(self) -> Actor:
        """The Actor for one request (its own list of groups: nothing shares it)."""
        return replace(self.actor, groups=list(self.actor.groups))


class TokenCache:
    """Per process, thread-safe (a gunicorn worker serves several threads)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[str, tuple[float, TokenGrant]] = {}

    def grant(self, session: Session, token: str, scope: str) -> TokenGrant | None:
        """The token's grant when it carries ``scope``, else None (a wrong token, a revoked
        one, an inactive user, another scope)."""
        key = accounts.token_digest(token)
        now = self._clock()
        with self._lock:
            held = self._grants.get(key)
        if held is not None and now - held[0] < self.ttl:
            grant: TokenGrant | None = held[1]
        else:
            grant = self._load(session, key, token, now)
        if grant is None or scope not in grant.scopes:
            return None
        return grant

    def _load(self, session: Session, key: str, token: str, now: float) -> TokenGrant | None:
        found = accounts.token_row(session, token)
        grant = None
        if found is not None:
            row, user = found
            # Not flushing last_used_at yet: the caller commits it, or drops it on a
            # read-only database, and the read must not fail on it (reading the groups).
            with session.no_autoflush:
                actor = accounts.actor_for(user)
            grant = TokenGrant(
                user_id=user.id,
                username=user.username,
                actor=actor,
                scopes=frozenset(row.scopes.split()),
            )
        with self._lock:
            self._grants.pop(key, None)
            if grant is not None and self.ttl > 0:
                if len(self._grants) >= MAX_TOKENS:
                    self._forget_expired(now)
                if len(self._grants) < MAX_TOKENS:
                    self._grants[key] = (now, grant)
        return grant

    def _forget_expired(self, now: float) -> None:
        for key in [k for k, (at, _) in self._grants.items() if now - at >= self.ttl]:
            del self._grants[key]

    def forget_all(self) -> None:
        with self._lock:
            self._grants.clear()
