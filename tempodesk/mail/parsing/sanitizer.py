"""The HTML sanitiser's child process: nh3 where a runaway call can be killed.

nh3's HTML5 tree builder is quadratic on some inputs (measured: 64 KB of nested ``<div>``
takes 0.5 s, 2 MB of ``<table>x`` 18 s, distinct ``<font>`` tags minutes) and a call into Rust
cannot be interrupted from Python. So :func:`tempodesk.mail.parsing.html.sanitize_html` hands
large HTML to one long-lived child process per Tempodesk process, which this module starts,
feeds and kills when it overruns its budget (ARCHITECTURE.md, "Email in"). The child runs the
very allowlist of the parent (:func:`tempodesk.mail.parsing.html.clean`).
"""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import tempodesk

# The child serves length-prefixed requests on stdin/stdout until its stdin closes.
_CHILD_CODE = """
import sys
from tempodesk.mail.parsing.html import clean
requests, answers = sys.stdin.buffer, sys.stdout.buffer
answers.write(b"R")
answers.flush()
while len(head := requests.read(8)) == 8:
    html = requests.read(int.from_bytes(head, "big")).decode("utf-8", "replace")
    cleaned = clean(html).encode("utf-8", "replace")
    answers.write(len(cleaned).to_bytes(8, "big") + cleaned)
    answers.flush()
"""
_CHILD_START_SECONDS = 30.0


class _SanitizerChild:
    """One long-lived child process that runs nh3, so that a runaway call can be killed.

    A call into Rust cannot be interrupted from Python, and a fresh process per message would
    spend the time budget on interpreter start-up. So one child serves requests in turn (a lock
    serialises the worker's threads); the budget covers only the sanitising itself, and a child
    that overruns it is killed and replaced on the next call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def clean(self, html: str, timeout: float) -> str | None:
        """The sanitised HTML, or None when the child ran out of time or failed."""
        payload = html.encode("utf-8", "replace")
        with self._lock:
            try:
                process = self._running()
                assert process.stdin is not None
                process.stdin.write(len(payload).to_bytes(8, "big") + payload)
                process.stdin.flush()
                deadline = time.monotonic() + timeout
                size = int.from_bytes(self._read(process, 8, deadline), "big")
                return self._read(process, size, deadline).decode("utf-8", "replace")
            except (OSError, TimeoutError):
                self._stop()
                return None

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        root = str(Path(tempodesk.__file__).resolve().parents[1])  # holds tempodesk/
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            bufsize=0,
        )
        self._read(self._process, 1, time.monotonic() + _CHILD_START_SECONDS)
        return self._process

    @staticmethod
    def _read(process: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
        assert process.stdout is not None
        descriptor = process.stdout.fileno()
        chunks: list[bytes] = []
        while size:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([descriptor], [], [], wait)[0]:
                raise TimeoutError("the HTML sanitiser ran out of time")
            chunk = os.read(descriptor, min(size, 1 << 20))
            if not chunk:
                raise OSError("the HTML sanitiser child exited")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def forget_after_fork(self) -> None:
        """In a forked child (gunicorn, multiprocessing) the pipes belong to the parent."""
        self._lock = threading.Lock()
        self._process = None

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


_SANITIZER = _SanitizerChild()
os.register_at_fork(after_in_child=_SANITIZER.forget_after_fork)
atexit.register(_SANITIZER._stop)  # no child outlives its worker


def clean_in_child(html: str, timeout: float) -> str | None:
    """``html`` sanitised by the child within ``timeout`` seconds, or None when it overran
    (the child is then killed; the next call starts a fresh one) or failed."""
    return _SANITIZER.clean(html, timeout)
