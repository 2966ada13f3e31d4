"""A pooled PostgreSQL connection is checked after it idled, not on every checkout."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text

from tempodesk.core import db


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    built = db.make_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield built
    built.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")))


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_killed_while_idle_is_replaced_before_it_is_used(
    engine: Engine, pg_url: str
) -> None:
    """What a database restart does to the pool: the next session still works."""
    first = _backend(engine)
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    time.sleep(db.PING_AFTER_IDLE + 0.5)
    assert _backend(engine) != first


def test_a_connection_back_a_moment_ago_is_not_pinged(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(engine, monkeypatch)
    backend = _backend(engine)
    for _ in range(5):
        assert _backend(engine) == backend  # the warmest connection, reused
    assert pings == []
    time.sleep(db.PING_AFTER_IDLE + 0.2)
    assert _backend(engine) == backend
    assert len(pings) == 1
