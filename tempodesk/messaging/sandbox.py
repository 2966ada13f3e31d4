"""Admin-written templates (email and SMS), rendered safely.

Admins are trusted to write wording, not code. Templates render in Jinja2's
``ImmutableSandboxedEnvironment`` with:

- a context of plain data only (dicts, lists, strings, numbers): no ORM objects, no request,
  no config, no Flask globals; no loader, so no ``include``/``extends``/``import`` of files;
- ``StrictUndefined``: a misspelt variable or an unsafe attribute (``''.__class__``) is an
  error with a readable message, never a silent blank;
- operator interception: ``*`` and ``**`` cannot build huge strings or numbers;
- a time limit enforced by a trace function (a runaway loop stops within the limit, in the
  calling thread, without touching other work) and an output cap.

Customer-supplied text is only ever *data* in the context, never compiled as a template.
"""

from __future__ import annotations

import operator
import sys
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT_CHARS = 1_000_000
MAX_SECONDS = 2.0
MAX_RANGE = 10_000
MAX_SEQUENCE_REPEAT = 10_000
MAX_POWER = 1_000


class TemplateProblem(ValueError):
    """A template that cannot be rendered; the message is meant for the admin."""


class _Deadline(Exception):
    pass


class Fields(dict[str, Any]):
    """Action and custom fields: a field nobody set renders as empty text."""

    def __missing__(self, key: str) -> str:
        return ""


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_POWER:
                raise SecurityError("The exponent is too large.")
            return operator.pow(left, right)
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                repeats = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if repeats and len(seq) * max(count, 0) > MAX_SEQUENCE_REPEAT:
                    raise SecurityError("Repeating text that many times is not allowed.")
            return operator.mul(left, right)
        return super().call_binop(context, operator_name, left, right)


def _environment(autoescape: bool) -> _Environment:
    env = _Environment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.clear()  # no range/lipsum/dict/cycler/joiner/namespace beyond what we give
    env.globals["range"] = _bounded_range
    return env


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SecurityError(f"A range of more than {MAX_RANGE} items is not allowed.")
    return result


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def check_syntax(source: str) -> None:
    """Raise TemplateProblem if the template does not even parse."""
    try:
        _TEXT.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Line {exc.lineno}: {exc.message}") from None


def render(
    source: str,
    context: Mapping[str, Any],
    *,
    html: bool = False,
    max_seconds: float = MAX_SECONDS,
    max_chars: int = MAX_OUTPUT_CHARS,
) -> str:
    """Render an admin template against plain data; raise TemplateProblem on any failure."""
    env = _HTML if html else _TEXT
    try:
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Line {exc.lineno}: {exc.message}") from None
    deadline = time.monotonic() + max_seconds

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _Deadline
        return trace

    previous = sys.gettrace()
    parts: list[str] = []
    size = 0
    sys.settrace(trace)
    try:
        for chunk in template.generate(**_plain(context)):
            size += len(chunk)
            if size > max_chars:
                raise TemplateProblem(f"The output is longer than {max_chars} characters.")
            parts.append(chunk)
    except TemplateProblem:
        raise
    except _Deadline:
        raise TemplateProblem(f"Rendering took longer than {max_seconds:g} s.") from None
    except SecurityError as exc:
        raise TemplateProblem(f"Not allowed: {exc}") from None
    except UndefinedError as exc:
        raise TemplateProblem(f"Unknown variable: {exc.message}") from None
    except TemplateError as exc:
        raise TemplateProblem(f"The template failed: {exc.message}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as exc:
        raise TemplateProblem(f"The template failed: {exc}") from None
    finally:
        sys.settrace(previous)
    return "".join(parts)


def _plain(value: Any) -> Any:
    """A deep copy made of plain types only; anything else becomes its text."""
    if isinstance(value, Fields):
        return Fields({str(k): _plain(v) for k, v in value.items()})
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
