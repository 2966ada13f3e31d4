"""What the `tempodesk` commands share: a session factory and a prepared database."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tempodesk.core.db import make_engine, make_session_factory, transaction, upgrade
from tempodesk.core.settings import Settings
from tempodesk.tickets import processes


def sessions(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.db_url))


def prepare(settings: Settings) -> None:
    """Migrate, and publish the bundled processes and templates where missing."""
    upgrade(settings.db_url)
    with transaction(sessions(settings)) as session:
        processes.ensure_bundled(session)
