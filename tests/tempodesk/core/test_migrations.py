"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text

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
    0005, 0016)."""
    return not (name or "").startswith(
        (
            "ticket_fts",
            "ix_tickets_search",
            "search_vector",
            "kb_article_fts",
            "ix_kb_articles_search",
        )
    )


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
        # Written as 0004 had it: the model has columns a later migration adds.
        with transaction(sessions) as session:
            # The columns of 0004 only (the model has more by now).
            session.execute(
                insert(Ticket.__table__).values(
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


def test_upgrading_to_first_contact_dates_it_by_the_first_mail_read(tmp_path: Path) -> None:
    """Migration 0008 gives a mailbox polled before it a first contact (its first stored IMAP
    mail, else its last poll), so a later UIDVALIDITY change does not import its past; a
    mailbox never polled keeps none."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    command.upgrade(config, "0007")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for id_, name, validity, polled in (
                (1, "mail", 7, "2026-03-01 10:00:00"),
                (2, "quiet", 8, "2026-04-01 10:00:00"),
                (3, "new", None, None),
            ):
                connection.execute(
                    text(
                        "INSERT INTO channels (id, name, kind, label, address)"
                        " VALUES (:i, :n, 'email', '', '')"
                    ),
                    {"i": id_, "n": name},
                )
                connection.execute(
                    text(
                        "INSERT INTO mailboxes (channel_id, enabled, imap_host, imap_port,"
                        " imap_security, imap_username, imap_secret, imap_verify, folder,"
                        " processed_folder, poll_seconds, import_existing, smtp_host, smtp_port,"
                        " smtp_security, smtp_username, smtp_secret, from_name, signature,"
                        " acknowledge, create_contacts, closed_policy, reopen_days,"
                        " order_pattern, max_message_mb, blocklist, uidvalidity, last_uid,"
                        " last_poll_at, last_error) VALUES (:i, 1, 'h', 993, 'tls', 'u', '', 1,"
                        " 'INBOX', '', 60, 0, '', 587, 'starttls', '', '', '', '', 1, 1,"
                        " 'reopen', 14, '', 25, '', :v, 0, :p, '')"
                    ),
                    {"i": id_, "v": validity, "p": polled},
                )
            for received, source in (
                ("2026-02-01 09:00:00", "api"),
                ("2026-02-02 09:00:00", "imap"),
                ("2026-02-03 09:00:00", "imap"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO inbound_messages (mailbox, dedupe_key, source,"
                        " rfc_message_id, sender, subject, raw, size, sha256, status, reason,"
                        " attempts, received_at) VALUES ('mail', :k, :s, '', '', '', x'00', 1,"
                        " '', 'ticket', '', 1, :r)"
                    ),
                    {"k": received, "s": source, "r": received},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT channel_id, first_contact_at, rescan_below FROM mailboxes ORDER BY 1")
            ).all()
    finally:
        engine.dispose()
    assert [(row[0], str(row[1])[:19] if row[1] else None, row[2]) for row in rows] == [
        (1, "2026-02-02 09:00:00", 0),
        (2, "2026-04-01 10:00:00", 0),
        (3, None, 0),
    ]


def test_knowledge_base_migration_goes_down_and_up_again(tmp_path: Path) -> None:
    """Migration 0016 (the knowledge base, with its FTS5 table and triggers on SQLite) can be
    undone and done again."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    command.upgrade(config, "0016")
    command.downgrade(config, "0014")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            names = {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master"))}
        assert not {n for n in names if n.startswith("kb_")}
    finally:
        engine.dispose()
    command.upgrade(config, "0016")


def test_upgrading_to_reports_dates_resolved_and_answered_tickets(tmp_path: Path) -> None:
    """Migration 0022 gives tickets written before it a resolution time (their last change,
    if resolved or closed) and a first response (their first public agent message)."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    command.upgrade(config, "0018")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for number, category in (("HD-1", "closed"), ("HD-2", "open")):
                connection.execute(
                    text(
                        "INSERT INTO tickets (number, workflow_id, event_seq, subject, state,"
                        " state_label, state_category, process_name, process_version, channel,"
                        " priority, customer_email, customer_name, fields, search_text,"
                        " created_at, updated_at) VALUES (:n, :n, 1, '', :c, '', :c, 'support',"
                        " 1, 'api', 2, '', '', '{}', '', '2026-01-01 08:00:00.000000',"
                        " '2026-01-03 08:00:00.000000')"
                    ),
                    {"n": number, "c": category},
                )
            for number, role, internal, attached, at in (
                ("HD-1", "agent", 1, 1, "2026-01-01 09:30:00.000000"),  # a note
                ("HD-1", "agent", 0, 0, "2026-01-01 09:40:00.000000"),  # never attached
                ("HD-1", "agent", 0, 1, "2026-01-01 10:00:00.000000"),  # the first answer
                ("HD-1", "agent", 0, 1, "2026-01-02 10:00:00.000000"),
                ("HD-2", "customer", 0, 1, "2026-01-01 09:00:00.000000"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO messages (ticket_number, attached, channel, sender_role,"
                        " internal, author, subject, body, created_at, delivery_detail,"
                        " recipient, auto_reply) VALUES (:n, :a, 'email', :r, :i, '', '', '',"
                        " :at, '', '', 0)"
                    ),
                    {"n": number, "a": attached, "r": role, "i": internal, "at": at},
                )
        command.upgrade(config, "head")
        with make_session_factory(engine)() as session:
            rows = {
                t.number: (t.resolved_at, t.first_response_at)
                for t in session.scalars(select(Ticket).order_by(Ticket.number))
            }
        resolved, answered = rows["HD-1"]
        assert (resolved.day, resolved.hour) == (3, 8)  # type: ignore[union-attr]
        assert (answered.day, answered.hour) == (1, 10)  # type: ignore[union-attr]
        assert rows["HD-2"] == (None, None)
    finally:
        engine.dispose()


def test_reports_indexes_cover_the_reports_columns_and_go_down_again(tmp_path: Path) -> None:
    """Migration 0033_reports widens the two period indexes to what the reports read (an
    index-only scan for a year of tickets), and undoes it."""
    url = f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url

    def columns() -> dict[str, list[str]]:
        engine = make_engine(url)
        try:
            return {
                str(index["name"]): [str(c) for c in index["column_names"]]
                for index in inspect(engine).get_indexes("tickets")
                if index["name"] in ("ix_tickets_created_at", "ix_tickets_resolved_at")
            }
        finally:
            engine.dispose()

    command.upgrade(config, "0033_reports")
    breakdown = ["channel", "process_name", "group_name", "assignee"]
    assert columns() == {
        "ix_tickets_created_at": ["created_at", *breakdown, "first_response_at"],
        "ix_tickets_resolved_at": ["resolved_at", *breakdown, "created_at"],
    }
    command.downgrade(config, "0032_sla2")
    assert columns() == {
        "ix_tickets_created_at": ["created_at"],
        "ix_tickets_resolved_at": ["resolved_at"],
    }
