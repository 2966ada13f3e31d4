"""The telephony queue's activities for calls: starting a click-to-call through the PBX."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from tempodesk.contracts.calls import StartCallInput, StartCallResult
from tempodesk.contracts.names import ACT_START_CALL
from tempodesk.core.settings import Settings
from tempodesk.telephony import calls


class PhoneActivities:
    """Click-to-call (``tempodesk.telephony.calls.start_call``: at most once per key)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings):
        self.sessions = sessions
        self.settings = settings

    @activity.defn(name=ACT_START_CALL)
    def start_call(self, input: StartCallInput) -> StartCallResult:
        return calls.start_call(self.sessions, self.settings, input)
