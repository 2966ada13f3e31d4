"""Admin-written regular expressions over customer text, with a time limit.

A mailbox's order-number pattern is written by an admin and runs over every message's subject
and text. A pattern with nested repeats (``(a+)+$``) backtracks for longer than anyone waits
on text such as ``aaaa…!``, in one call into ``re`` that Python cannot interrupt — and it
held the mailbox's poll with it. So such a pattern runs in a warm child process
(:class:`tempodesk.core.child.ChildPool`) that is killed after :data:`ORDER_PATTERN_SECONDS`
(the message is then read without order numbers, and says why), and a pattern is probed at
save (:func:`pattern_problem`) against text built to make it backtrack. (The ``regex``
package's ``timeout=`` would do the first in-process; it is not a dependency.)
"""

from __future__ import annotations

import json
import re

from tempodesk.core.child import ChildFailed, ChildPool, ChildTimeout

ORDER_PATTERN_SECONDS = 0.5
PROBE_SECONDS = 1.0
MAX_MATCHES = 1_000
_PROBE_LENGTH = 2_000  # quadratic patterns pass (real text is bounded), worse ones do not
_PROBE_CHARACTERS = "aA0 -._#x"

_PATTERNS = ChildPool(
    "tempodesk.mail.patterns:serve_find",
    memory_bytes=256 * 1024 * 1024,
    cpu_seconds=int(PROBE_SECONDS) + 1,
)


class PatternFailed(Exception):
    """The pattern ran out of time (its child was killed) or failed; the text says which."""


def find_all(pattern: str, texts: list[str], timeout: float) -> list[str]:
    """Every match of ``pattern`` in ``texts``, in order (its first group if it has one;
    at most :data:`MAX_MATCHES`); PatternFailed when it overran ``timeout``."""
    payload = json.dumps({"pattern": pattern, "texts": texts}).encode("utf-8", "surrogatepass")
    try:
        answer = json.loads(_PATTERNS.call(payload, timeout))
    except ChildTimeout:
        raise PatternFailed(f"stopped after {timeout:g} s") from None
    except (ChildFailed, ValueError):
        raise PatternFailed("failed") from None
    if "error" in answer:
        raise PatternFailed(str(answer["error"]))
    return [str(value) for value in answer["found"]]


def serve_find(payload: bytes) -> bytes:
    """In the child: one request of :func:`find_all`."""
    try:
        request = json.loads(payload.decode("utf-8", "surrogatepass"))
        compiled = re.compile(request["pattern"])
        found: list[str] = []
        for text in request["texts"]:
            for match in compiled.finditer(text):
                value = match.group(1) if compiled.groups else match.group(0)
                if value:
                    found.append(value)
                if len(found) >= MAX_MATCHES:
                    break
        answer: dict[str, object] = {"found": found[:MAX_MATCHES]}
    except (re.error, MemoryError, RecursionError) as exc:
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    return json.dumps(answer).encode("utf-8", "surrogatepass")


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` may not be saved for customer text (None: it may): text made of each
    character it names or commonly meets, after its literal start, ending in one that does not
    fit, makes a backtracking pattern overrun :data:`PROBE_SECONDS`."""
    try:
        find_all(pattern, _probes(pattern), PROBE_SECONDS)
    except PatternFailed:
        return (
            "The pattern takes too long on some text (nested repeats such as (a+)+ backtrack "
            "without end); write it without them."
        )
    return None


def _probes(pattern: str) -> list[str]:
    plain = re.sub(r"\\[A-Za-z]", " ", pattern)  # \d, \b, \w … are classes, not letters
    named = {c for c in plain if c.isalnum()}
    start = re.match(r"[\^(]*([A-Za-z0-9#_-]*)", plain)
    prefixes = {"", start.group(1) if start else ""}
    characters = sorted(set(_PROBE_CHARACTERS) | named)
    return [p + c * _PROBE_LENGTH + "!" for p in sorted(prefixes) for c in characters]
