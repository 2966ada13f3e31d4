"""SMS providers behind one interface: ``send`` one SMS, read a delivery report.

- **twilio**: Twilio's Messages API as it is (and any service that copies it):
  ``POST <url>/2010-04-01/Accounts/<sid>/Messages.json``, form-encoded ``To``, ``From``,
  ``Body``, ``StatusCallback``, HTTP basic auth (Account SID, auth token); answer JSON with
  ``sid`` and ``status``. It has no idempotency header: exactly-once rests on the outbox
  check before the send (``activities/sms.py``). Callbacks (delivery reports, inbound SMS)
  are form posts signed with ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with the auth
  token, of the full URL followed by each parameter's name and value, sorted by name.
- **generic** (our shape, for gateways that let their requests be configured):
  ``POST <url>`` JSON ``{"to", "from", "text", "reference", "status_callback"}`` with
  ``Authorization: Bearer <token>`` and ``Idempotency-Key: <reference>``; a gateway that
  receives a key again answers as the first time and sends nothing. Answer 200/201/202 JSON
  ``{"id", "status"}``. It calls us with a Tempodesk API token of scope ``sms``: delivery
  reports ``{"id", "status"}`` at the status callback, inbound SMS
  ``{"from", "to", "text", "message_id"}`` at ``/hooks/sms/generic``.

Answers: 2xx accepted; 429 and 5xx not sent (retried); any other 4xx refused for good.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from tempodesk.telephony import sms_net

PROVIDERS = ("twilio", "generic")
TWILIO_API = "/2010-04-01/Accounts/{account}/Messages.json"

# Provider words -> ours (queued < sent < delivered | failed).
_STATUSES = {
    "queued": "sent",
    "accepted": "sent",
    "scheduled": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}


def our_status(provider_status: str) -> str:
    """A provider's delivery status in our words, "" when it is not one we know."""
    return _STATUSES.get(provider_status.strip().lower(), "")


@dataclass
class GatewayConfig:
    provider: str
    url: str
    account: str
    secret: str  # unsealed: Twilio's auth token, the generic gateway's bearer token
    sender: str
    allow_private: bool = False
    timeout: float = 15.0


@dataclass
class OutgoingSms:
    to: str
    body: str
    key: str  # the idempotency key: ticket, event, recipient
    status_callback: str = ""


@dataclass
class Accepted:
    provider_id: str
    status: str  # ours: sent | delivered | failed
    detail: str = ""


class SmsRefused(Exception):
    """The provider refused this SMS for good (a 4xx other than 429)."""


class SmsNotSent(Exception):
    """The provider did not take it (429, 5xx, no connection): try again later."""


class Provider(Protocol):
    def send(self, sms: OutgoingSms) -> Accepted: ...


def _answer(answer: sms_net.HttpAnswer, id_field: str) -> Accepted:
    text = answer.body[:300].decode("utf-8", "replace")
    if answer.status == 429 or answer.status >= 500:
        raise SmsNotSent(f"HTTP {answer.status}: {text}")
    if not 200 <= answer.status < 300:
        raise SmsRefused(f"HTTP {answer.status}: {text}")
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    provider_id = str(data.get(id_field) or "")[:64]
    return Accepted(provider_id, our_status(str(data.get("status") or "")) or "sent", text)


class TwilioProvider:
    def __init__(self, config: GatewayConfig):
        self.config = config

    def send(self, sms: OutgoingSms) -> Accepted:
        config = self.config
        url = config.url.rstrip("/") + TWILIO_API.format(account=config.account)
        fields = {"To": sms.to, "From": config.sender, "Body": sms.body}
        if sms.status_callback:
            fields["StatusCallback"] = sms.status_callback
        auth = base64.b64encode(f"{config.account}:{config.secret}".encode()).decode()
        headers = {
            "Authorization": f"Basic {auth}",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/json",
        }
        return _send(config, url, urlencode(fields).encode(), headers, "sid")


class GenericProvider:
    def __init__(self, config: GatewayConfig):
        self.config = config

    def send(self, sms: OutgoingSms) -> Accepted:
        config = self.config
        body = {
            "to": sms.to,
            "from": config.sender,
            "text": sms.body,
            "reference": sms.key,
            "status_callback": sms.status_callback,
        }
        headers = {
            "Authorization": f"Bearer {config.secret}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": sms.key,
        }
        return _send(config, config.url, json.dumps(body).encode(), headers, "id")


def _send(
    config: GatewayConfig, url: str, body: bytes, headers: dict[str, str], id_field: str
) -> Accepted:
    try:
        answer = sms_net.post(
            url, body, headers, timeout=config.timeout, allow_private=config.allow_private
        )
    except sms_net.NotSent as exc:
        raise SmsNotSent(str(exc)) from None
    return _answer(answer, id_field)


def provider(config: GatewayConfig) -> Provider:
    if config.provider == "twilio":
        return TwilioProvider(config)
    if config.provider == "generic":
        return GenericProvider(config)
    raise ValueError(f"Unknown SMS provider {config.provider!r}.")


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    """Twilio's ``X-Twilio-Signature`` of a form posted to ``url``."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(url: str, params: dict[str, str], token: str, signature: str) -> bool:
    if not token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(url, params, token), signature.strip())
