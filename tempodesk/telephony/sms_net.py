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
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

# Cloud metadata services that are not link-local (AWS's IPv6, Alibaba's, Oracle's).
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)


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


def _address_refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow: bool) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_link_local or address in METADATA:
        return "a link-local or metadata address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if not address.is_global and not allow:
        return "an internal or loopback address"
    return ""


def resolve(url: str, allow_private: bool) -> tuple[str, int, str]:
    """The (address, port, host) a URL leads to, every address checked; else ``UrlRefused``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused("Use an http:// or https:// URL with a host name.")
    if parts.username or parts.password:
        raise UrlRefused("Put credentials in their own fields, not in the URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        raise UrlRefused(f"The host {parts.hostname} cannot be resolved.") from None
    chosen = ""
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        reason = _address_refused(address, allow_private)
        if reason:
            raise UrlRefused(f"The host {parts.hostname} leads to {reason}.")  # web/i18n/texts
        chosen = chosen or str(address)
    return chosen, port, parts.hostname


def check_url(url: str, allow_private: bool) -> str:
    """The problem with a URL, or "" (at save: resolves now; the send checks again)."""
    try:
        resolve(url, allow_private)
    except UrlRefused as exc:
        return str(exc)
    return ""


class _PinnedConnection(http.client.HTTPSConnection):
    """A connection to the checked address, speaking TLS for (and verifying) the host name."""

    def __init__(self, address: str, port: int, host: str, tls: bool, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address, self._tls = address, tls

    def open(self) -> None:
        """The TCP (and TLS) connection, before anything is written: a failure here is
        ``NotSent``."""
        sock = socket.create_connection((self._address, self.port), self.timeout)
        if self._tls:
            sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        self.sock = sock

    def connect(self) -> None:  # http.client's own call, should the socket be gone
        self.open()


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> HttpAnswer:
    """POST ``body`` to ``url`` (checked again now); ``NotSent`` or ``Ambiguous`` on failure."""
    address, port, host = resolve(url, allow_private)
    parts = urlsplit(url.strip())
    conn = _PinnedConnection(address, port, host, parts.scheme == "https", timeout)
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
