"""Long-lived child processes for work that must be killable: a call into C or Rust cannot be
interrupted from Python, so what may run away (nh3 on hostile HTML, an admin's template)
runs in a child that is killed when it overruns its budget.

A fresh process per call would spend the budget on interpreter start-up, so a
:class:`ChildPool` keeps up to ``size`` warm children, each serving length-prefixed requests
on stdin/stdout in turn. A handler is a function ``bytes -> bytes`` named by its module and
attribute; the child imports it once. A child may run with an address-space limit
(``RLIMIT_AS``: a runaway allocation is a ``MemoryError`` there, for the handler to answer)
and a CPU limit per request (``RLIMIT_CPU``, reset before each request: a backstop should the
parent stop watching). The budget covers only the work itself; a child that overruns it, dies
or answers garbage is killed and replaced on the next call.
"""

from __future__ import annotations

import atexit
import importlib
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import tempodesk

_CHILD_START_SECONDS = 30.0
_READY = b"R"


class ChildFailed(Exception):
    """The child died, could not start, or answered nothing readable."""


class ChildTimeout(ChildFailed):
    """The child overran its budget (it has been killed)."""


class _Child:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def ask(self, payload: bytes, timeout: float) -> bytes:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(len(payload).to_bytes(8, "big") + payload)
            self.process.stdin.flush()
        except OSError as exc:
            raise ChildFailed(str(exc)) from None
        deadline = time.monotonic() + timeout
        size = int.from_bytes(self.read(8, deadline), "big")
        return self.read(size, deadline)

    def read(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        chunks: list[bytes] = []
        while size:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([descriptor], [], [], wait)[0]:
                raise ChildTimeout("the child ran out of time")
            chunk = os.read(descriptor, min(size, 1 << 20))
            if not chunk:
                raise ChildFailed("the child exited")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class ChildPool:
    """Up to ``size`` warm children running ``handler`` (``"package.module:function"``).

    Threads share the pool: a call takes an idle child (or starts one while fewer than
    ``size`` run, else waits for one), so a slow request holds up only its own child.
    """

    def __init__(
        self,
        handler: str,
        *,
        size: int = 1,
        memory_bytes: int = 0,
        cpu_seconds: int = 0,
    ) -> None:
        self.handler = handler
        self.size = size
        self.memory_bytes = memory_bytes
        self.cpu_seconds = cpu_seconds
        self._forget()
        os.register_at_fork(after_in_child=self._forget)
        atexit.register(self.stop)  # no child outlives its process

    def _forget(self) -> None:
        # In a forked child (gunicorn, multiprocessing) the pipes belong to the parent.
        self._condition = threading.Condition()
        self._idle: list[_Child] = []
        self._running = 0

    def call(self, payload: bytes, timeout: float) -> bytes:
        """The handler's answer to ``payload`` within ``timeout`` seconds; ChildTimeout when
        the child overran (it is killed), ChildFailed when it died or could not start."""
        child = self._take()
        try:
            answer = child.ask(payload, timeout)
        except BaseException:
            child.kill()
            self._give_back(None)
            raise
        self._give_back(child)
        return answer

    def _take(self) -> _Child:
        with self._condition:
            while True:
                while self._idle:
                    child = self._idle.pop()
                    if child.alive():
                        return child
                    child.kill()
                    self._running -= 1
                if self._running < self.size:
                    self._running += 1
                    break
                self._condition.wait()
        try:
            return self._start()
        except BaseException:
            self._give_back(None)
            raise

    def _give_back(self, child: _Child | None) -> None:
        with self._condition:
            if child is None:
                self._running -= 1
            else:
                self._idle.append(child)
            self._condition.notify()

    def _start(self) -> _Child:
        root = str(Path(tempodesk.__file__).resolve().parents[1])  # holds tempodesk/
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        limits = f"{self.memory_bytes},{self.cpu_seconds}"
        code = "from tempodesk.core.child import serve; serve()"
        process = subprocess.Popen(
            [sys.executable, "-c", code, self.handler, limits],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            bufsize=0,
        )
        child = _Child(process)
        try:
            if child.read(1, time.monotonic() + _CHILD_START_SECONDS) != _READY:
                raise ChildFailed("the child did not start")
        except BaseException:
            child.kill()
            raise
        return child

    def stop(self) -> None:
        """Kill the idle children (a busy one is killed by the call that holds it, if it
        overruns, or when its pipes close with this process)."""
        with self._condition:
            idle, self._idle = self._idle, []
            self._running -= len(idle)
        for child in idle:
            child.kill()


def serve() -> None:
    """The child's main loop: ``argv`` names the handler and the limits (bytes, seconds)."""
    handler = _load(sys.argv[1])
    memory, cpu = (int(value) for value in sys.argv[2].split(","))
    import resource

    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    answers.write(_READY)
    answers.flush()
    while len(head := requests.read(8)) == 8:
        payload = requests.read(int.from_bytes(head, "big"))
        if cpu:  # CPU seconds are counted over the child's life: allow this request its share
            used = resource.getrusage(resource.RUSAGE_SELF)
            soft = int(used.ru_utime + used.ru_stime) + cpu + 1
            resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
        answer = handler(payload)
        answers.write(len(answer).to_bytes(8, "big") + answer)
        answers.flush()


def _load(name: str) -> Callable[[bytes], bytes]:
    module, _, attribute = name.partition(":")
    handler: Callable[[bytes], bytes] = getattr(importlib.import_module(module), attribute)
    return handler
