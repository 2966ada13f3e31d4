"""Outbound SMS, sent exactly once, on the telephony task queue.

The stored message is the outbox. Before anything goes to the provider its row is locked and
read: sent (or delivered, failed) — nothing to do; else it is marked ``sending`` with one
more attempt counted, and only then is the provider asked. The answer is written back:
accepted → ``sent`` with the provider's id; refused (4xx) → ``failed``; not taken (429, 5xx,
no connection) → back to ``queued`` and the attempt uncounted (retried by Temporal); no
answer after the request went out (a timeout, a reset, a worker killed between the
provider's answer and our write) → ``unknown``, flagged for agents. An attempt that finds
``sending`` or ``unknown`` knows the last one may have gone: it sends **once more** (the
generic provider's ``Idempotency-Key`` makes that harmless; Twilio's shape has none, so the
flag says it may have gone twice) and after that never again: the SMS stays ``unknown``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from tempodesk.contracts import ACT_SEND_SMS, SendSmsInput, SendSmsResult
from tempodesk.core import failpoints
from tempodesk.core.db import transaction
from tempodesk.core.ids import sms_send_key
from tempodesk.core.models import Message
from tempodesk.core.settings import Settings
from tempodesk.core.vault import SecretUnreadable
from tempodesk.telephony import sms, sms_net
from tempodesk.telephony.sms_providers import (
    OutgoingSms,
    SmsNotSent,
    SmsRefused,
    provider,
)
from tempodesk.telephony.sms_text import clean_body

# A send whose answer was lost is sent once more, never a third time.
MAX_AMBIGUOUS_SENDS = 2
FAILPOINT_AFTER_ACCEPT = "sms_after_accept"


class SmsActivities:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings):
        self.sessions = session_factory
        self.settings = settings

    @activity.defn(name=ACT_SEND_SMS)
    def send_sms(self, input: SendSmsInput) -> SendSmsResult:
        """Send one stored message as an SMS to one number, once (see the module)."""
        claimed = self._claim(input)
        if isinstance(claimed, SendSmsResult):
            return claimed
        body, ambiguous = claimed
        if activity.in_activity():
            activity.heartbeat("sending")
        try:
            with self.sessions() as session:
                gateway = sms.config(session, self.settings)
        except SecretUnreadable as exc:
            return self._finish(input, "failed", "", str(exc), ambiguous)
        if gateway is None:
            return self._finish(input, "failed", "", sms.NO_GATEWAY, ambiguous)
        key = sms_send_key(input.ticket_number, input.event_seq, input.message_id, input.to)
        # The callback URL names the send too: Twilio's shape has no reference field.
        callback = sms.status_callback_url(self.settings, gateway.provider)
        outgoing = OutgoingSms(input.to, body, key, f"{callback}?{urlencode({'ref': key})}")
        try:
            accepted = provider(gateway).send(outgoing)
        except (SmsRefused, sms_net.UrlRefused) as exc:
            return self._finish(input, "failed", "", f"Refused: {exc}", ambiguous)
        except SmsNotSent as exc:
            self._release(input.message_id, str(exc))
            raise ApplicationError(f"The SMS provider did not take it: {exc}") from None
        except sms_net.Ambiguous as exc:
            self._finish(input, "unknown", "", f"No answer: {exc}", True)
            raise ApplicationError(f"The SMS may have been sent: {exc}") from None
        failpoints.hit(FAILPOINT_AFTER_ACCEPT)
        return self._finish(
            input, accepted.status, accepted.provider_id, accepted.detail, ambiguous
        )

    def _claim(self, input: SendSmsInput) -> SendSmsResult | tuple[str, bool]:
        """Lock the message, decide whether it may go, and mark it ``sending``: the body,
        and whether this send follows one whose answer was lost (else the result: done)."""
        with transaction(self.sessions) as session:
            message = session.scalar(
                select(Message).where(Message.id == input.message_id).with_for_update()
            )
            if message is None or message.ticket_number != input.ticket_number:
                raise ApplicationError(
                    "The SMS to send is not stored for this ticket.",
                    type="PermanentDeliveryFailure",
                    non_retryable=True,
                )
            status = message.delivery_status
            if status in ("sent", "delivered", "failed"):
                return SendSmsResult(
                    status,
                    message.provider_message_id or "",
                    "already sent" if status != "failed" else message.delivery_detail,
                    message.delivery_ambiguous,
                )
            ambiguous = status in ("sending", "unknown") and message.send_attempts > 0
            if ambiguous and message.send_attempts >= MAX_AMBIGUOUS_SENDS:
                message.delivery_status, message.delivery_ambiguous = "unknown", True
                return SendSmsResult(
                    "unknown",
                    message.provider_message_id or "",
                    "It may have been sent; it is not sent again.",
                    True,
                )
            message.delivery_status = "sending"
            message.send_attempts += 1
            message.delivery_ambiguous = message.delivery_ambiguous or ambiguous
            return clean_body(message.body), message.delivery_ambiguous

    def _release(self, message_id: int, detail: str) -> None:
        """The provider did not take it: as if this attempt never happened."""
        with transaction(self.sessions) as session:
            session.execute(
                update(Message)
                .where(Message.id == message_id)
                .where(Message.delivery_status == "sending")
                .values(
                    delivery_status="queued",
                    send_attempts=Message.send_attempts - 1,
                    delivery_detail=detail[:1000],
                )
            )

    def _finish(
        self, input: SendSmsInput, status: str, provider_id: str, detail: str, ambiguous: bool
    ) -> SendSmsResult:
        values: dict[str, object] = {
            "delivery_status": status,
            "delivery_detail": detail[:1000],
            "delivery_ambiguous": ambiguous,
        }
        if provider_id:
            values["provider_message_id"] = provider_id
        with transaction(self.sessions) as session:
            session.execute(
                update(Message)
                .where(Message.id == input.message_id)
                .where(Message.delivery_status.in_(("sending", "queued", "unknown")))
                .values(**values)
            )
        return SendSmsResult(status, provider_id, detail, ambiguous)
