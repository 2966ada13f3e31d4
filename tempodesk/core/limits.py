"""Column limits, read from the models: the one source of how long a stored value may be.

Every edge (the API, the forms, intake, process definitions) checks a value against the column
it will end up in with ``check``/``too_long``, so a value that cannot be stored is refused at
once, naming the field, instead of failing later in a step that retries. ``guard`` is the net
behind them: a session it watches refuses to flush a string longer than its column
(``ColumnTooLong``), on SQLite too, which would store it silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session, sessionmaker


class ColumnTooLong(ValueError):
    """A value longer than its column; ``field`` is the column's name."""

    def __init__(self, table: str, field: str, limit: int):
        self.table, self.field, self.limit = table, field, limit
        super().__init__(f"{table}.{field}: at most {limit} characters")


def max_chars(column: Any) -> int | None:
    """The length of a model attribute's column (``Contact.phone``), None if unlimited."""
    kind = getattr(column, "type", None)
    return kind.length if isinstance(kind, String) else None


def too_long(value: str | None, column: Any) -> str | None:
    """The message for a value that does not fit its column, else None."""
    limit = max_chars(column)
    if value is None or limit is None or len(value) <= limit:
        return None
    return f"At most {limit} characters."


def fit(value: str, column: Any) -> str:
    """A display copy shortened to its column (with an ellipsis); for values whose source of
    truth lives elsewhere (the workflow's own state), never for keys or addresses."""
    limit = max_chars(column)
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def check(values: Mapping[str, tuple[str | None, Any]]) -> dict[str, str]:
    """``{field: (value, column)}`` -> ``{field: message}`` for every value too long."""
    errors: dict[str, str] = {}
    for field, (value, column) in values.items():
        message = too_long(value, column)
        if message:
            errors[field] = message
    return errors


def _refuse_long_values(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        table = state.mapper.local_table
        for attr in state.mapper.column_attrs:
            value = state.dict.get(attr.key)  # loaded values only: no lazy load here
            if not isinstance(value, str):
                continue
            limit = max_chars(attr.columns[0])
            if limit is not None and len(value) > limit:
                raise ColumnTooLong(getattr(table, "name", ""), attr.key, limit)


def guard(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Make the sessions of ``factory`` refuse to flush a string longer than its column."""
    event.listen(factory, "before_flush", _refuse_long_values)
    return factory
