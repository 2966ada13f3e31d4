"""Where the server may connect to: one rule for every outbound connection an admin
configures (mail servers, the PBX, a cloud PBX's click-to-call URL, SMS gateways, webhooks).

An address is refused when it is a cloud metadata service or link-local (never allowed), when
it is multicast, unspecified or reserved (never allowed), and when it is otherwise not
globally routable (private, loopback, shared) unless the caller allows private addresses for
development or an on-premises server (ASVS V5.2.6). A host is checked by every address it
resolves to, and a caller that then connects goes to the address it checked
(``PinnedConnection``), so a DNS answer that changes between the check and the connect
cannot lead elsewhere.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from typing import Literal
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Cloud metadata services: the link-local one (169.254.169.254) and those that are not
#: link-local (AWS's IPv6, Alibaba's, Oracle's).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
Refusal = Literal["", "metadata", "reserved", "internal"]


def refusal(address: IPAddress, *, allow_private: bool) -> Refusal:
    """Why the server may not connect to ``address`` ("" when it may): ``metadata`` (a
    metadata service or link-local), ``reserved`` (multicast, unspecified, reserved) or
    ``internal`` (private or loopback, unless ``allow_private``)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA or address.is_link_local:
        return "metadata"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "reserved"
    if not address.is_global and not allow_private:
        return "internal"
    return ""


def addresses(host: str, port: int | None = None) -> list[IPAddress]:
    """Every address ``host`` resolves to; ``OSError`` when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host.strip(), port, proto=socket.IPPROTO_TCP)
    except UnicodeError as exc:
        raise OSError(f"{host}: {exc}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def is_private_host(host: str) -> bool:
    """Whether ``host`` is, or resolves to, an address that is not globally routable
    (private, loopback, link-local such as a cloud metadata service, reserved). A host that
    does not resolve is not: connecting to it fails by itself."""
    if not host.strip():
        return False
    try:
        found = addresses(host)
    except OSError:
        return False
    return any(refusal(address, allow_private=False) for address in found)


def url_problem(url: str, *, allow_private: bool) -> str:
    """Why the server may not call ``url`` ("" when it may): http(s) only, a host, and no
    private address unless allowed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http:// or https:// address."
    if not allow_private and is_private_host(parts.hostname):
        return "This host is in a private, loopback or link-local range."
    return ""


class PinnedConnection(http.client.HTTPSConnection):
    """An HTTP(S) connection to the checked ``address``; the request still names ``host``
    and TLS still verifies it. ``open`` makes the TCP (and TLS) connection before anything is
    written, so a caller can tell "nothing sent" from "sent, no answer"."""

    def __init__(self, host: str, port: int, address: str, *, tls: bool, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address, self._tls = address, tls

    def open(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        if self._tls:
            sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        self.sock = sock

    def connect(self) -> None:  # http.client's own call, should the socket be gone
        self.open()
