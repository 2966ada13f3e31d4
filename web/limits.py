"""Rate limits on what anyone can make expensive: signing in (a scrypt hash per attempt) and
the public form (a ticket per submission).

Flask-Limiter keeps the counters, in memory by default (one web process); set
``TEMPODESK_RATE_LIMIT_STORAGE_URI`` (e.g. ``redis://host:6379``) so that several processes
share them. Each app has its own limiter, so two apps in one process never share counts.
The rules are settings (``"10/minute;100/hour"``) read on every request. While a shared store
does not answer, each process counts on its own (logged), rather than not limiting at all or
refusing every sign-in.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Flask, current_app, make_response, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from tempodesk.core.settings import Settings
from web.i18n import N_

log = logging.getLogger(__name__)


class RateLimited(Exception):
    """Over a limit: answered 429 with ``Retry-After``."""

    def __init__(self, retry_after: int):
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


def init_app(app: Flask, settings: Settings) -> None:
    limiter = Limiter(
        client_address,
        app=app,
        storage_uri=settings.rate_limit_storage_uri,
        strategy="moving-window",
    )
    app.extensions["tempodesk_limiter"] = limiter
    app.register_error_handler(RateLimited, _too_many)


def client_address() -> str:
    """Who is asking (behind a proxy, configure it to set the peer address, e.g. ProxyFix)."""
    return request.remote_addr or "unknown"


def _strategy() -> RateLimiter:
    limiter: Limiter = current_app.extensions["tempodesk_limiter"]
    return limiter.limiter


def _fallback() -> RateLimiter:
    """Counters in this process, for while the configured store does not answer."""
    strategy: RateLimiter = current_app.extensions.setdefault(
        "tempodesk_limiter_fallback", MovingWindowRateLimiter(MemoryStorage())
    )
    return strategy


def _apply(rules: str, key: tuple[str, ...], *, count: bool) -> None:
    items = parse_many(rules) if rules else []
    try:
        _check(_strategy(), items, key, count=count)
    except RateLimited:
        raise
    except Exception as exc:  # the store is away: still limit, in this process
        log.error("rate-limit store unavailable, counting in this process: %s", exc)
        _check(_fallback(), items, key, count=count)


def _check(
    strategy: RateLimiter, items: list[RateLimitItem], key: tuple[str, ...], *, count: bool
) -> None:
    for item in items:
        allowed = strategy.hit(item, *key) if count else strategy.test(item, *key)
        if not allowed:
            reset = strategy.get_window_stats(item, *key).reset_time
            raise RateLimited(max(1, math.ceil(reset - time.time())))


def check(rules: str, *key: str) -> None:
    """Raise RateLimited if ``key`` has used up any of ``rules`` (counts nothing)."""
    _apply(rules, key, count=False)


def hit(rules: str, *key: str) -> None:
    """Count one attempt of ``key``; raise RateLimited if it is over any of ``rules``."""
    _apply(rules, key, count=True)


def _too_many(exc: RateLimited) -> Any:
    from web import error_response

    response = make_response(
        error_response(
            429,
            "rate_limited",
            N_("Too many attempts. Please wait a moment and try again."),
            retry_after=exc.retry_after,
        )
    )
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
