"""What the web app is given to work with, built by the composition root (``tempodesk.app``).

The web sits below the app in the layers (ARCHITECTURE.md), so it names only the shape it
needs; ``tempodesk.app.runtime.Runtime`` is the one thing of that shape.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from tempodesk.core.settings import Settings
from tempodesk.core.temporal import TemporalFacade
from tempodesk.mail.inbound import InboundService
from tempodesk.tickets.actions import Actions
from tempodesk.tickets.intake import Intake


class Services(Protocol):
    """Settings, the database, the Temporal facade and the services built on them."""

    @property
    def settings(self) -> Settings: ...
    @property
    def sessions(self) -> sessionmaker[Session]: ...
    @property
    def temporal(self) -> TemporalFacade: ...
    @property
    def intake(self) -> Intake: ...
    @property
    def actions(self) -> Actions: ...
    @property
    def inbound(self) -> InboundService: ...
