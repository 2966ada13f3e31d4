"""What a running Tempodesk process holds: settings, the database, the Temporal facade."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tempodesk.core.db import make_engine, make_session_factory, pool_options
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import TemporalFacade
from tempodesk.tickets.actions import Actions
from tempodesk.tickets.intake import Intake

if TYPE_CHECKING:
    from tempodesk.mail.inbound import InboundService


class Runtime:
    """Built once per process and shared by its threads."""

    def __init__(self, settings: Settings, *, temporal: TemporalFacade | None = None):
        self.settings = settings
        self._temporal = temporal

    @cached_property
    def db(self) -> Engine:
        return make_engine(self.settings.db_url, **pool_options(self.settings))

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.db)

    @cached_property
    def temporal(self) -> TemporalFacade:
        return self._temporal or TemporalFacade(self.settings)

    @cached_property
    def intake(self) -> Intake:
        return Intake(self.settings, self.sessions, self.temporal)

    @cached_property
    def inbound(self) -> InboundService:
        from tempodesk.mail.inbound import InboundService

        return InboundService(self.settings, self.sessions, self.intake, self.temporal)

    @cached_property
    def actions(self) -> Actions:
        return Actions(self.settings, self.sessions, self.temporal)

    def close(self) -> None:
        if "temporal" in self.__dict__ and self._temporal is None:
            self.temporal.close()
        if "db" in self.__dict__:
            self.db.dispose()
