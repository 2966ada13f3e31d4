"""The helpdesk's SMS gateway: its settings (checked at save, the secret sealed), where its
delivery reports come back, and what a delivery report does to a message.

Sending is the worker's (``activities/sms.py``, on the telephony task queue); taking SMS in
is ``sms_inbound``. Phone numbers are E.164 (``people.addresses.e164``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tempodesk.core.models import DELIVERY_RANK, Message, SmsGateway, utcnow
from tempodesk.core.settings import Settings
from tempodesk.core.vault import seal, unseal
from tempodesk.people.addresses import e164
from tempodesk.telephony import sms_net
from tempodesk.telephony.sms_providers import PROVIDERS, GatewayConfig, our_status

NO_GATEWAY = "No SMS gateway is configured."


class GatewayInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class GatewayView:
    """What the admin page shows (never the secret)."""

    provider: str = "twilio"
    url: str = ""
    account: str = ""
    sender: str = ""
    enabled: bool = False
    has_secret: bool = False


def row(session: Session) -> SmsGateway | None:
    return session.scalar(select(SmsGateway).order_by(SmsGateway.id).limit(1))


def view(session: Session) -> GatewayView:
    gateway = row(session)
    if gateway is None:
        return GatewayView()
    return GatewayView(
        gateway.provider,
        gateway.url,
        gateway.account,
        gateway.sender,
        gateway.enabled,
        bool(gateway.secret),
    )


def save_gateway(
    session: Session,
    settings: Settings,
    *,
    provider: str,
    url: str,
    account: str = "",
    sender: str,
    secret: str | None = None,
    enabled: bool = True,
) -> SmsGateway:
    """Store the gateway (``secret`` None keeps the stored one); ``GatewayInvalid`` lists what
    is wrong: an unknown provider, a URL that leads somewhere internal, a sender not a number."""
    errors: dict[str, str] = {}
    if provider not in PROVIDERS:
        errors["provider"] = "Choose Twilio or generic HTTP."
    problem = sms_net.check_url(url, settings.allow_private_sms_hosts)
    if problem:
        errors["url"] = problem
    number = e164(sender, settings.phone_region)
    if not number:
        errors["sender"] = "Enter the sender's phone number."
    if provider == "twilio" and not account.strip():
        errors["account"] = "Enter the Account SID."
    if len(url) > 500 or len(account) > 64:
        errors.setdefault("url", "Too long.")
    if errors:
        raise GatewayInvalid(errors)
    gateway = row(session)
    if gateway is None:
        gateway = SmsGateway()
        session.add(gateway)
    gateway.provider, gateway.url, gateway.account = provider, url.strip(), account.strip()
    gateway.sender, gateway.enabled, gateway.updated_at = number, enabled, utcnow()
    if secret is not None:
        gateway.secret = seal(secret, settings.session_secret())
    session.flush()
    return gateway


def sending_enabled(session: Session) -> bool:
    """Whether SMS can be sent at all (an enabled gateway; its secret is not read)."""
    gateway = row(session)
    return gateway is not None and gateway.enabled


def config(session: Session, settings: Settings) -> GatewayConfig | None:
    """The enabled gateway with its secret unsealed (only where it is used), else None."""
    gateway = row(session)
    if gateway is None or not gateway.enabled:
        return None
    return GatewayConfig(
        provider=gateway.provider,
        url=gateway.url,
        account=gateway.account,
        secret=unseal(gateway.secret, settings.session_secret()),
        sender=gateway.sender,
        allow_private=settings.allow_private_sms_hosts,
        timeout=settings.sms_timeout_seconds,
    )


def status_callback_url(settings: Settings, provider: str) -> str:
    return f"{settings.public_url}/hooks/sms/{provider}/status"


def inbound_url(settings: Settings, provider: str) -> str:
    return f"{settings.public_url}/hooks/sms/{provider}"


def _by_reference(session: Session, reference: str) -> Message | None:
    """The message a send's reference (``core.ids.sms_send_key``) names, if it is that one."""
    head, _, tail = reference.rpartition("-")
    _, _, message_id = head.rpartition("-")
    if not message_id.isdigit():
        return None
    message = session.get(Message, int(message_id))
    if message is None or message.channel != "sms":
        return None
    expected_tail = message.recipient.lstrip("+")
    if not reference.startswith(f"sms-{message.ticket_number}-") or tail != expected_tail:
        return None
    return message


def apply_status(
    session: Session, provider_id: str, provider_status: str, reference: str = ""
) -> bool:
    """A delivery report: the message moves forward (queued < sent < delivered | failed),
    never back; a replayed or late report changes nothing. It is found by the provider's id,
    else by the reference in the (signed or authorised) callback URL: a report may come
    before the send's answer was written down, or when that answer was lost. True when
    something changed."""
    status = our_status(provider_status)
    if not status or not provider_id:
        return False
    message = session.scalar(
        select(Message).where(Message.provider_message_id == provider_id[:64]).limit(1)
    )
    if message is None and reference:
        message = _by_reference(session, reference)
    if message is None:
        return False
    values: dict[str, object] = {"delivery_status": status}
    if not message.provider_message_id:
        values["provider_message_id"] = provider_id[:64]
    if DELIVERY_RANK.get(status, 0) <= DELIVERY_RANK.get(message.delivery_status, 0):
        return False
    changed = session.execute(
        update(Message)
        .where(Message.id == message.id)
        .where(Message.delivery_status == message.delivery_status)  # compare and set
        .values(**values)
    )
    return bool(getattr(changed, "rowcount", 0))
