"""Mail of one conversation is routed in arrival order; other conversations side by side."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tempodesk.mail.conversations import ConversationLanes, conversation_keys


def _mail(sender: str, message_id: str, *, refs: str = "", reply_to: str = "") -> bytes:
    lines = [f"From: Someone <{sender}>", f"Message-ID: <{message_id}>", "Subject: hi"]
    if refs:
        lines += [f"In-Reply-To: {refs.split()[-1]}", f"References: {refs}"]
    if reply_to:
        lines.append(f"Reply-To: {reply_to}")
    return ("\r\n".join(lines) + "\r\n\r\nFrom: not@a.header\r\n").encode()


def test_a_reply_shares_a_key_with_the_mail_it_names_even_from_another_sender() -> None:
    first = conversation_keys(_mail("anna@example.com", "first@example.com"))
    reply = conversation_keys(
        _mail("ben@example.org", "reply@example.org", refs="<FIRST@example.com>")
    )
    assert first & reply == {"id:first@example.com"}


def test_mail_of_one_customer_shares_a_key_plus_tags_and_case_aside() -> None:
    one = conversation_keys(_mail("Anna+shop@Example.com", "a@x"))
    two = conversation_keys(_mail("anna@example.com", "b@x"))
    assert "from:anna@example.com" in one & two


def test_unrelated_mail_shares_no_key_and_the_body_is_not_read() -> None:
    one = conversation_keys(_mail("anna@example.com", "a@x"))
    two = conversation_keys(_mail("ben@example.com", "b@x"))
    assert not one & two
    assert "from:not@a.header" not in one


def test_reply_to_is_a_key_as_the_router_may_take_it_as_the_sender() -> None:
    keys = conversation_keys(_mail("noreply@shop.example", "a@x", reply_to="eva@example.com"))
    assert "from:eva@example.com" in keys


def test_headers_no_parser_reads_give_no_key() -> None:
    assert conversation_keys(b"\xff\xfe\x00garbage") == frozenset()


def test_lanes_keep_arrival_order_within_a_conversation_and_overlap_others() -> None:
    done: list[str] = []
    running, overlap = 0, 0
    lock = threading.Lock()

    def job(name: str, seconds: float) -> str:
        nonlocal running, overlap
        with lock:
            running += 1
            overlap = max(overlap, running)
        time.sleep(seconds)
        with lock:
            running -= 1
            done.append(name)
        return name

    with ThreadPoolExecutor(4) as pool:
        lanes = ConversationLanes(pool, window=8)
        # a1 is slow; a2 (same sender) and a3 (names a2) must still come after it.
        lanes.submit({"from:a", "id:a1"}, lambda: job("a1", 0.2))
        lanes.submit({"from:a", "id:a2"}, lambda: job("a2", 0.0))
        lanes.submit({"from:c", "id:a3", "id:a2"}, lambda: job("a3", 0.0))
        lanes.submit({"from:b", "id:b1"}, lambda: job("b1", 0.0))
        lanes.finish()
    assert done.index("a1") < done.index("a2") < done.index("a3")
    assert done.index("b1") < done.index("a1")  # b did not wait for a
    assert overlap >= 2


def test_lanes_run_the_jobs_behind_a_failed_one_and_then_raise_its_error() -> None:
    done: list[str] = []

    def fail() -> None:
        raise RuntimeError("boom")

    with ThreadPoolExecutor(2) as pool:
        lanes = ConversationLanes(pool, window=1)
        lanes.submit({"k"}, fail)
        lanes.submit({"k"}, lambda: done.append("after"))
        with pytest.raises(RuntimeError, match="boom"):
            lanes.finish()
    assert done == ["after"]
