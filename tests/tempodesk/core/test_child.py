"""tempodesk.core.child: warm child processes that are killed when they overrun."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tempodesk.core.child import ChildFailed, ChildPool, ChildTimeout

HANDLERS = "tests.tempodesk.core.child_handlers"


def test_a_warm_child_answers_request_after_request() -> None:
    pool = ChildPool(f"{HANDLERS}:pid")
    try:
        first = pool.call(b"a", 30)
        second = pool.call(b"b", 1)
    finally:
        pool.stop()
    assert first.endswith(b":a") and second.endswith(b":b")
    assert first.split(b":")[0] == second.split(b":")[0]  # the same process, no start-up


def test_a_child_that_overruns_is_killed_and_the_next_call_gets_a_fresh_one() -> None:
    pool = ChildPool(f"{HANDLERS}:pid")
    sleeper = ChildPool(f"{HANDLERS}:sleep")
    try:
        pool.call(b"", 30)
        sleeper.call(b"0", 30)  # warm
        started = time.monotonic()
        with pytest.raises(ChildTimeout):
            sleeper.call(b"60", 0.3)
        assert time.monotonic() - started < 1.0
        assert sleeper.call(b"0", 30) == b"woke"
    finally:
        pool.stop()
        sleeper.stop()


def test_a_memory_limit_turns_a_huge_allocation_into_a_memory_error_in_the_child() -> None:
    pool = ChildPool(f"{HANDLERS}:allocate", memory_bytes=256 * 1024 * 1024)
    try:
        assert pool.call(str(2 * 1024**3).encode(), 30) == b"MemoryError"
        assert pool.call(b"1000", 5) == b"1000"
    finally:
        pool.stop()


def test_the_cpu_limit_ends_a_spinning_child_even_when_nobody_watches_the_clock() -> None:
    pool = ChildPool(f"{HANDLERS}:spin", cpu_seconds=1)
    with pytest.raises(ChildFailed) as caught:
        pool.call(b"", 300)  # one CPU second may take long on a busy machine; never this long
    assert not isinstance(caught.value, ChildTimeout)  # the kernel's limit ended it


def test_a_pool_of_two_serves_two_slow_requests_side_by_side() -> None:
    pool = ChildPool(f"{HANDLERS}:sleep", size=2)
    try:
        with ThreadPoolExecutor(2) as threads:
            list(threads.map(lambda _: pool.call(b"0", 30), range(2)))  # both warm
            started = time.monotonic()
            answers = list(threads.map(lambda _: pool.call(b"2", 30), range(2)))
        assert answers == [b"woke", b"woke"]
        assert time.monotonic() - started < 3.9  # one after the other would take 4 s
    finally:
        pool.stop()
