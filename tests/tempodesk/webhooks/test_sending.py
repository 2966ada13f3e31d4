"""The SSRF guard, the signature and one POST, against a real server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from tempodesk.webhooks.sending import Refused, allowed_hosts, check_url, post, resolve, sign
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body() -> None:
    body = '{"event":"ping","č":1}'.encode()
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert sign(body, "s3cret") == f"sha256={expected}"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "javascript:alert(1)", "http:///path", "https://user:pw@example.com/"],
)
def test_only_plain_http_and_https_urls_to_a_host_are_taken(url: str) -> None:
    with pytest.raises(Refused):
        check_url(url)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
    ],
)
def test_hosts_outside_the_public_internet_are_refused_unless_allowed(host: str) -> None:
    with pytest.raises(Refused):
        resolve(host, 80, set())


def test_an_allowed_host_may_be_private_but_never_a_metadata_service() -> None:
    assert resolve("127.0.0.1", 80, allowed_hosts("127.0.0.1, other.test")) == "127.0.0.1"
    with pytest.raises(Refused, match="metadata"):
        resolve("169.254.169.254", 80, allowed_hosts("169.254.169.254"))


def test_a_public_address_passes() -> None:
    assert resolve("8.8.8.8", 443, set()) == "8.8.8.8"


def test_the_allowlist_is_by_host_name_as_written_not_by_address(receiver: Receiver) -> None:
    with pytest.raises(Refused, match="not a public address"):
        post(receiver.url(host="localhost"), b"{}", {}, allowlist={"127.0.0.1"}, timeout=5)
    assert receiver.received == []


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.statuses = [302]
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    answer = post(receiver.url(), b"{}", {}, allowlist={"127.0.0.1"}, timeout=5)
    assert answer.status == 302
    assert len(receiver.received) == 1


def test_the_post_carries_the_body_and_headers_and_keeps_a_short_excerpt(
    receiver: Receiver,
) -> None:
    receiver.statuses = [500]
    answer = post(
        receiver.url("/in?x=1"),
        b'{"a":1}',
        {"X-Tempodesk-Event": "ping"},
        allowlist={"127.0.0.1"},
        timeout=5,
    )
    assert answer.status == 500 and len(answer.excerpt) == 500
    [got] = receiver.received
    assert got.path == "/in?x=1" and got.body == b'{"a":1}'
    assert got.headers["X-Tempodesk-Event"] == "ping"
    assert got.headers["Content-Type"] == "application/json"
