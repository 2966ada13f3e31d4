"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from tempodesk.core.db import MIGRATIONS, make_engine, make_session_factory, transaction
from tempodesk.core.models import Base, Ticket
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
    """The full-text machinery is dialect-specific DDL outside the models (migrations 0004,
    0005)."""
    return not (name or "").startswith(("ticket_fts", "ix_tickets_search", "search_vector"))


def test_upgrading_to_folded_search_indexes_existing_tickets_without_diacritics(
    tmp_path: Path,
) -> None:
    """Migration 0005 gives tickets written before it the words without diacritics, so an
    existing database finds "novakova" too (new tickets get them from the projection)."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    command.upgrade(config, "0004")
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            session.add(
                Ticket(
                    number="HD-OLD-1",
                    workflow_id="ticket-HD-OLD-1",
                    state="open",
                    state_category="open",
                    process_name="support",
                    process_version=1,
                    search_text="HD-OLD-1\nKonvice nehřeje\nJiřina Nováková",
                )
            )
        command.upgrade(config, "head")
        with sessions() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == "HD-OLD-1"))
            assert ticket is not None
            assert ticket.search_text.splitlines()[-1] == "nehreje jirina novakova"
            ids = session.scalars(
                text("SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH 'novakova'")
            ).all()
            assert ids == [ticket.id]
    finally:
        engine.dispose()
