"""Handlers the child-pool tests run in real child processes."""

from __future__ import annotations

import os
import time


def pid(payload: bytes) -> bytes:
    return f"{os.getpid()}:".encode() + payload


def sleep(payload: bytes) -> bytes:
    time.sleep(float(payload))  # one long call, as into C
    return b"woke"


def allocate(payload: bytes) -> bytes:
    try:
        block = bytearray(int(payload))
    except MemoryError:
        return b"MemoryError"
    return str(len(block)).encode()


def spin(payload: bytes) -> bytes:
    while True:
        pass
