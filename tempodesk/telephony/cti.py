"""A cloud PBX over HTTP (CTI): its call events come in as signed webhooks, click-to-call
goes out as a JSON POST.

Events in: ``POST /hooks/cti/<provider>`` with a JSON body ``{"call_id", "event": "ringing"
| "answered" | "hungup", "from", "to", "detail"?}`` (``to`` is the agent's extension on an
incoming call) and the header ``X-Tempodesk-Signature: sha256=<hex HMAC-SHA256 of the raw
body under TEMPODESK_CTI_SECRET>``. Calls out: ``POST TEMPODESK_CTI_CALL_URL`` with
``{"call_id", "extension", "to"}``, ``Authorization: Bearer TEMPODESK_CTI_TOKEN`` and
``Idempotency-Key: <call_id>``; any 2xx is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from tempodesk.core.outbound import url_problem
from tempodesk.telephony.events import KINDS, CallEvent

SIGNATURE_HEADER = "X-Tempodesk-Signature"
_FIELD_MAX = 150


class CtiRefused(ValueError):
    """A webhook we do not take (bad signature, bad body) or a call URL we may not call."""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is the signature of ``body`` (no secret configured: never)."""
    return bool(secret) and hmac.compare_digest(sign(secret, body), header.strip())


def parse_event(body: bytes) -> CallEvent:
    """The call event a webhook body holds (``CtiRefused`` if it holds none)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise CtiRefused("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise CtiRefused("The body is not a JSON object.")
    values = {k: data.get(k, "") for k in ("call_id", "event", "from", "to", "detail")}
    if not all(isinstance(v, str) and len(v) <= _FIELD_MAX for v in values.values()):
        raise CtiRefused(f"Every field is a string of at most {_FIELD_MAX} characters.")
    if not values["call_id"] or values["event"] not in KINDS:
        raise CtiRefused(f"call_id and event ({', '.join(KINDS)}) are required.")
    return CallEvent(
        call_id=values["call_id"],
        kind=values["event"],
        caller=values["from"],
        extension=values["to"],
        detail=values["detail"],
    )


def click_to_call(
    url: str,
    token: str,
    *,
    call_key: str,
    extension: str,
    number: str,
    allow_private: bool,
    before_send: Callable[[], None] | None = None,
    timeout: float = 10.0,
) -> None:
    """Ask the cloud PBX to ring ``extension`` and dial ``number``; raises on any failure."""
    problem = url_problem(url, allow_private=allow_private)
    if problem:
        raise CtiRefused(problem)
    body = json.dumps({"call_id": call_key, "extension": extension, "to": number}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": call_key,
        },
    )
    if before_send is not None:
        before_send()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "refused", response.headers, None)
