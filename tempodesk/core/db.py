"""Engines, sessions and migrations for PostgreSQL (production) and SQLite (embedded default)."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, alias, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.core import limits
from tempodesk.core.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"

#: A PostgreSQL connection back in the pool for longer than this is checked (``SELECT 1``)
#: before it is handed out again; one returned more recently is not.
PING_AFTER_IDLE = 1.0  # seconds


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned for the backend: WAL and a busy timeout on SQLite; on PostgreSQL a
    connection check after idling (``ping_when_idle``) and the warmest connection first."""
    if url.startswith("sqlite"):
        if ":///" in url and not url.endswith(":memory:"):
            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_use_lifo", True)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine)
    return engine


def ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping`` for connections that idled in the pool over ``PING_AFTER_IDLE``.

    A database restart or a cut connection leaves the pool's connections dead; the pre-ping
    finds them before a request does. But a dead connection has idled at least as long as the
    database was away (a restart takes seconds), while one handed back a moment ago under
    load was alive then, so the check (a round trip and a statement per session, in the
    process and in PostgreSQL) is kept for the idle ones. A connection that still fails is
    a disconnect as before: SQLAlchemy drops it and every pooled connection older than it.
    The pool hands out the most recently returned connection first (``pool_use_lifo``), so
    under load the same few stay warm and the idle ones stay idle."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.pop("returned_at", None)
        if returned is None or time.monotonic() - returned <= PING_AFTER_IDLE:
            return  # just connected, or back a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise exc.InvalidatePoolError("connection found dead after idling")  # as pre-ping


def pool_options(settings: Settings, *, worker: bool = False) -> dict[str, Any]:
    """The one connection pool of a process, sized from the settings (``make_engine``): a
    web process's, or a worker's (a fixed size: its activity threads beyond it wait)."""
    if worker:
        return {"pool_size": settings.worker_db_pool_size, "max_overflow": 0}
    return {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that refuse to store a string longer than its column (``limits.guard``)."""
    return limits.guard(sessionmaker(engine, expire_on_commit=False))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back on error."""
    with factory() as session, session.begin():
        yield session


def upsert(
    session: Session,
    model: type[Any],
    values: dict[str, Any],
    *,
    on: Iterable[str],
    update: Iterable[str] = (),
    where: Callable[[Any], ColumnElement[bool]] | None = None,
    computed: Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    """``INSERT ... ON CONFLICT (on) DO UPDATE`` the ``update`` columns from the new row (only
    ``where(new_row)`` holds, if given), or ``DO NOTHING`` without ``update``: one statement,
    race-free, on PostgreSQL and SQLite alike (both speak ON CONFLICT; SQLAlchemy has a
    construct per dialect). ``computed(new_row)`` gives columns whose update is an expression
    (of the new row and the row there), not simply the new value."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values)
    columns = list(update)
    if columns:
        new_row = excluded(model.__table__)
        assignments = {name: new_row[name] for name in columns}
        if computed is not None:
            assignments.update(computed(new_row))
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=list(on),
                set_=assignments,
                where=where(new_row) if where is not None else None,
            )
        )
    else:
        session.execute(stmt.on_conflict_do_nothing(index_elements=list(on)))


@functools.cache
def excluded(table: Table) -> Any:
    """``stmt.excluded`` of an upsert into ``table``, built once per table: SQLAlchemy builds
    it per statement (an alias re-creating every column, ~10 % of the worker's CPU on the
    ``tickets`` row's upserts); the SQL is the same."""
    return alias(table, name="excluded").columns


def column_length(column: Any) -> int | None:
    """The length a string column holds (``Model.attr`` or ``Model.__table__.c.name``);
    None for a column without a limit (Text). The models are the one place limits live."""
    return getattr(getattr(column, "type", None), "length", None)


def fit(column: Any, value: str) -> str:
    """Text cut to what its column holds (a subject, a name: a shorter one still says it)."""
    limit = column_length(column)
    return value if limit is None or len(value) <= limit else value[:limit]


def fit_id(column: Any, value: str) -> str:
    """An identifier (Message-ID, Content-ID, a reference) fitted to its column: unchanged
    when it fits, else its head and a SHA-256 of the whole. The same over-long id always
    becomes the same value, so it can still be looked up (threading); two over-long ids that
    share their head stay apart."""
    limit = column_length(column)
    if limit is None or len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    head = limit - len(digest) - 1
    return f"{value[:head]}~{digest}" if head > 0 else digest[:limit]


def upgrade(url: str) -> None:
    """Apply every Alembic migration to the database at ``url``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 with its UTC offset (None stays None)."""
    value = aware(value)
    return value.isoformat() if value is not None else None
