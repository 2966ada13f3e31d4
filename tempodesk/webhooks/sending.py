"""Sending one webhook body: the SSRF guard, the signature and one HTTP POST.

The guard runs at send time, not only when the URL is saved: a name may resolve elsewhere
tomorrow. The host is resolved once, every address it has is checked, and the connection
goes to the address that was checked (the request still names the host, and TLS still
verifies it), so a second lookup cannot swap in a private address. Redirects are never
followed (``http.client`` does not); only a short excerpt of the answer is read.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

USER_AGENT = "Tempodesk-Webhooks/1"
EXCERPT_BYTES = 500
# Never reachable, allowlisted or not: the cloud metadata services.
METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))


class Refused(Exception):
    """The URL may not be called (scheme, host, address); retrying cannot help."""


@dataclass
class Answer:
    status: int
    excerpt: str


def sign(body: bytes, secret: str) -> str:
    """``X-Tempodesk-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def allowed_hosts(setting: str) -> set[str]:
    """``TEMPODESK_WEBHOOK_ALLOWED_HOSTS``: host names as written in URLs, comma-separated."""
    return {h.strip().lower().strip("[]") for h in setting.split(",") if h.strip()}


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL we may POST to, or ``Refused`` (no resolving here)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(f"Not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("Only http and https URLs.")
    if not parts.hostname:
        raise Refused("The URL names no host.")
    if parts.username or parts.password:
        raise Refused("No credentials in the URL, please: receivers check the signature.")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower(), port or default


def forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified: not the internet."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        not address.is_global
        or address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
    )


def resolve(host: str, port: int, allowlist: set[str]) -> str:
    """The address to connect to: every address of ``host`` must be public, unless the host
    is allowlisted (the metadata services never are)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise ConnectionError(f"{host} does not resolve: {exc}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise ConnectionError(f"{host} has no address")
    for address in addresses:
        if address in METADATA:
            raise Refused(f"{host} resolves to {address}, a metadata service")
        if host not in allowlist and forbidden(address):
            raise Refused(
                f"{host} resolves to {address}, which is not a public address "
                "(allow the host in TEMPODESK_WEBHOOK_ALLOWED_HOSTS)"
            )
    return str(addresses[0])


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to the checked address, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allowlist: set[str],
    timeout: float,
) -> Answer:
    """POST ``body`` once. ``Refused`` by the guard; ``OSError`` when unreachable."""
    scheme, host, port = check_url(url)
    address = resolve(host, port, allowlist)
    parts = urlsplit(url.strip())
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedTLS if scheme == "https" else _Pinned
    connection = kind(host, port, address, timeout)
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return Answer(response.status, excerpt)
    except http.client.HTTPException as exc:
        raise ConnectionError(f"bad HTTP answer: {exc!r}") from None
    finally:
        connection.close()
