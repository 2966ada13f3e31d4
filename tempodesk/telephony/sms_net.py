"""Outbound HTTP for SMS providers, behind an address allowlist (ASVS V5.2.6: no SSRF).

A provider's URL is an admin's text, so where it leads is checked when it is saved and again
at every send: the host is resolved then, every address it resolves to must be allowed, and
the connection goes to the address that was checked (a DNS answer that changes between the
check and the connect cannot lead elsewhere). Link-local and metadata addresses are never
allowed; loopback and private ranges only where the settings say so (development, tests, an
on-premises gateway).

What a failure means for exactly-once sending: ``NotSent`` — nothing reached the provider
(no connection); ``Ambiguous`` — the request was (maybe) written and no answer came, so the
provider may have accepted it.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit

from tempodesk.core import outbound


class UrlRefused(ValueError):
    """The URL may not be used: its text, or where it leads."""


class NotSent(OSError):
    """No connection: the provider received nothing."""


class Ambiguous(OSError):
    """The request went out and no answer came: the provider may have accepted it."""


@dataclass
class HttpAnswer:
    status: int
    body: bytes
    content_type: str = ""


_REASONS = {
    "metadata": "a link-local or metadata address",
    "reserved": "a reserved address",
    "internal": "an internal or loopback address",
}


def resolve(url: str, allow_private: bool) -> tuple[str, int, str]:
    """The (address, port, host) a URL leads to, every address checked; else ``UrlRefused``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused("Use an http:// or https:// URL with a host name.")
    if parts.username or parts.password:
        raise UrlRefused("Put credentials in their own fields, not in the URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = outbound.addresses(parts.hostname, port)
    except (OSError, ValueError):
        raise UrlRefused(f"The host {parts.hostname} cannot be resolved.") from None
    for address in found:
        reason = _REASONS.get(outbound.refusal(address, allow_private=allow_private))
        if reason:
            raise UrlRefused(f"The host {parts.hostname} leads to {reason}.")  # web/i18n/texts
    if not found:
        raise UrlRefused(f"The host {parts.hostname} cannot be resolved.")
    return str(found[0]), port, parts.hostname


def check_url(url: str, allow_private: bool) -> str:
    """The problem with a URL, or "" (at save: resolves now; the send checks again)."""
    try:
        resolve(url, allow_private)
    except UrlRefused as exc:
        return str(exc)
    return ""


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> HttpAnswer:
    """POST ``body`` to ``url`` (checked again now); ``NotSent`` or ``Ambiguous`` on failure."""
    address, port, host = resolve(url, allow_private)
    parts = urlsplit(url.strip())
    conn = outbound.PinnedConnection(
        host, port, address, tls=parts.scheme == "https", timeout=timeout
    )
    try:
        try:
            conn.open()
        except OSError as exc:
            raise NotSent(f"cannot connect to {host}: {exc}") from None
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read(1_000_000)
        except (OSError, http.client.HTTPException) as exc:
            raise Ambiguous(f"no answer from {host}: {exc or type(exc).__name__}") from None
        return HttpAnswer(response.status, data, response.getheader("Content-Type") or "")
    finally:
        conn.close()
