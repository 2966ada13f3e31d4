"""Where the server may connect to: outbound hosts and URLs checked against private ranges.

One rule for every outbound connection an admin configures (mail servers, the PBX, a cloud
PBX's click-to-call URL): a host that is, or resolves to, a private, loopback, link-local
(a cloud metadata service) or reserved address is refused unless the settings allow it
for development or an on-premises server (ASVS V5.2.6).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def is_private_host(host: str) -> bool:
    """Whether ``host`` is, or resolves to, an address that is not globally routable
    (private, loopback, link-local such as a cloud metadata service, reserved). A host that
    does not resolve is not: connecting to it fails by itself."""
    if not host.strip():
        return False
    try:
        infos = socket.getaddrinfo(host.strip(), None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not address.is_global:
            return True
    return False


def url_problem(url: str, *, allow_private: bool) -> str:
    """Why the server may not call ``url`` ("" when it may): http(s) only, a host, and no
    private address unless allowed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http:// or https:// address."
    if not allow_private and is_private_host(parts.hostname):
        return "This host is in a private, loopback or link-local range."
    return ""
