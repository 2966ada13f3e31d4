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
from dataclasses import dataclass
from urllib.parse import urlsplit

from tempodesk.core import outbound

USER_AGENT = "Tempodesk-Webhooks/1"
EXCERPT_BYTES = 500


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


def resolve(host: str, port: int, allowlist: set[str]) -> str:
    """The address to connect to: every address of ``host`` must be public, unless the host
    is allowlisted (the metadata services never are)."""
    try:
        found = outbound.addresses(host, port)
    except OSError as exc:
        raise ConnectionError(f"{host} does not resolve: {exc}") from None
    if not found:
        raise ConnectionError(f"{host} has no address")
    for address in found:
        why = outbound.refusal(address, allow_private=host in allowlist)
        if why == "metadata":
            raise Refused(f"{host} resolves to {address}, a metadata service")
        if why:
            raise Refused(
                f"{host} resolves to {address}, which is not a public address "
                "(allow the host in TEMPODESK_WEBHOOK_ALLOWED_HOSTS)"
            )
    return str(found[0])


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
    connection = outbound.PinnedConnection(
        host, port, address, tls=scheme == "https", timeout=timeout
    )
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
