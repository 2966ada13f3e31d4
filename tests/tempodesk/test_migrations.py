"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tempodesk.db import make_engine
from tempodesk.models import Base
from tests.helpers import Stack


def test_migrated_database_matches_the_models(any_stack: Stack) -> None:
    engine = make_engine(any_stack.settings.db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": _not_full_text_search}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def _not_full_text_search(obj: object, name: str | None, kind: str, *_: object) -> bool:
    """The full-text machinery is dialect-specific DDL outside the models (migration 0004)."""
    return not (name or "").startswith(("ticket_fts", "ix_tickets_search"))
