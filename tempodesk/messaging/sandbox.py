"""Admin-written templates (email and SMS), rendered safely.

Admins are trusted to write wording, not code. Templates render in Jinja2's
``ImmutableSandboxedEnvironment`` with:

- a context of plain data only (dicts, lists, strings, numbers): no ORM objects, no request,
  no config, no Flask globals; no loader, so no ``include``/``extends``/``import`` of files;
- ``StrictUndefined``: a misspelt variable or an unsafe attribute (``''.__class__``) is an
  error with a readable message, never a silent blank;
- size clamps, so that no single call builds a huge string, number or list: ``*``, ``**`` and
  ``%``, widths and precisions in ``str.format``/``%`` specs, the padding methods of ``str``
  (``ljust``, ``rjust``, ``center``, ``zfill``, ``expandtabs``), ``replace``, and the filters
  ``format``, ``center``, ``indent``, ``wordwrap``, ``replace``, ``batch``, ``slice``,
  ``tojson``; ``range`` is bounded;
- a time limit enforced by a trace function (a runaway loop stops within the limit with a
  readable message) and an output cap;
- and all of it in a warm child process (:class:`tempodesk.core.child.ChildPool`) with an
  address-space limit (an allocation that escapes the clamps is a ``MemoryError`` there,
  answered as "needs too much memory"), a CPU limit, and a wall-clock limit after which the
  child is killed: one long C call cannot hold a web request or an activity thread.

Customer-supplied text is only ever *data* in the context, never compiled as a template.
"""

from __future__ import annotations

import functools
import json
import operator
import re
import sys
import time
from collections.abc import Callable, Mapping
from types import BuiltinMethodType, FrameType, MethodType
from typing import Any

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    UndefinedError,
    pass_environment,
    pass_eval_context,
)
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from markupsafe import Markup

from tempodesk.core.child import ChildFailed, ChildPool, ChildTimeout

MAX_OUTPUT_CHARS = 1_000_000
MAX_SECONDS = 2.0
MAX_RANGE = 10_000
MAX_SEQUENCE_REPEAT = 10_000
MAX_POWER = 1_000
MAX_WIDTH = 1_000  # a field width, padding, indent or precision
MAX_INT_BITS = 100_000  # about 30,000 digits; Python prints no more than 4,300 anyway
CHILD_MEMORY_BYTES = 256 * 1024 * 1024  # an idle child uses 25 MB
CHILDREN = 2  # per process: a slow template holds up only its own child
_KILL_GRACE_SECONDS = 0.5  # the trace function answers first, with the clearer message


class TemplateProblem(ValueError):
    """A template that cannot be rendered; the message is meant for the admin."""


class _Deadline(Exception):
    pass


class Fields(dict[str, Any]):
    """Action and custom fields: a field nobody set renders as empty text."""

    def __missing__(self, key: str) -> str:
        return ""


# A %-conversion: its width and precision are digits or "*" (taken from the arguments).
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_PADDING_METHODS = frozenset(["ljust", "rjust", "center", "zfill", "expandtabs"])


def _check_width(width: Any) -> None:
    if isinstance(width, int) and width > MAX_WIDTH:
        raise SecurityError(f"A width over {MAX_WIDTH} is not allowed.")


def _check_format_spec(spec: str) -> None:
    """A ``str.format`` field's spec, after nested fields were filled in."""
    for digits in re.findall(r"\d+", spec):
        if len(digits) > 6 or int(digits) > MAX_WIDTH:
            raise SecurityError(f"A width over {MAX_WIDTH} is not allowed.")


def _check_percent(text: str) -> None:
    for match in _PERCENT_SPEC.finditer(text.replace("%%", "")):
        for value in match.groups():
            if value == "*":
                raise SecurityError("A width taken from the values (*) is not allowed.")
            if value and (len(value) > 6 or int(value) > MAX_WIDTH):
                raise SecurityError(f"A width over {MAX_WIDTH} is not allowed.")


def _check_int_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise SecurityError("The number would be too large.")


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    text, old, new = str(text), str(old), str(new)
    if len(new) <= len(old):
        return
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    if len(text) + found * (len(new) - len(old)) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"The text would grow over {MAX_OUTPUT_CHARS} characters.")


class _BoundedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_spec(format_spec)
        return super().format_field(value, format_spec)


class _BoundedEscapeFormatter(_BoundedFormatter, SandboxedEscapeFormatter):
    pass


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%"])

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_POWER:
                raise SecurityError("The exponent is too large.")
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                _check_int_bits(left.bit_length() * right)
            return operator.pow(left, right)
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                repeats = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if repeats and len(seq) * max(count, 0) > MAX_SEQUENCE_REPEAT:
                    raise SecurityError("Repeating text that many times is not allowed.")
            if isinstance(left, int) and isinstance(right, int):
                _check_int_bits(left.bit_length() + right.bit_length())
            return operator.mul(left, right)
        if operator_name == "%" and isinstance(left, str):
            _check_percent(left)
        if operator_name == "%":
            return operator.mod(left, right)
        return super().call_binop(context, operator_name, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Plain data first: ``order.items`` is the order's items, not ``dict.items``.
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map`` through a formatter that bounds widths."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        f_self: str = value.__self__
        formatter: SandboxedFormatter = (
            _BoundedEscapeFormatter(self, escape=f_self.escape)
            if isinstance(f_self, Markup)
            else _BoundedFormatter(self)
        )
        is_format_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                return type(f_self)(formatter.vformat(f_self, (), args[0]))
            return type(f_self)(formatter.vformat(f_self, args, kwargs))

        return bounded

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(__obj, MethodType | BuiltinMethodType) and isinstance(owner, str):
            name = __obj.__name__
            if name in _PADDING_METHODS:
                for width in (*args[:1], *kwargs.values()):
                    _check_width(width)
            elif name == "replace":
                _check_replace(owner, *args[:3], **kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def _bounded_filters(env: _Environment) -> None:
    """The built-in filters that take a size, with the size bounded."""
    filters = env.filters
    center, indent, wordwrap, replace = (
        filters["center"],
        filters["indent"],
        filters["wordwrap"],
        filters["replace"],
    )
    batch, slice_, tojson = filters["batch"], filters["slice"], filters["tojson"]
    format_ = filters["format"]

    def do_center(value: Any, width: int = 80) -> Any:
        _check_width(width)
        return center(value, width)

    def do_indent(value: Any, width: Any = 4, *args: Any, **kwargs: Any) -> Any:
        _check_width(width)
        if isinstance(width, str) and len(width) > MAX_WIDTH:
            raise SecurityError(f"An indent over {MAX_WIDTH} characters is not allowed.")
        return indent(value, width, *args, **kwargs)

    @pass_environment
    def do_wordwrap(environment: Any, value: Any, width: int = 79, *args: Any, **kw: Any) -> Any:
        _check_width(width)
        return wordwrap(environment, value, width, *args, **kw)

    def do_format(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_percent(str(value))
        return format_(value, *args, **kwargs)

    @pass_eval_context
    def do_replace(eval_ctx: Any, value: Any, old: Any, new: Any, count: Any = None) -> Any:
        _check_replace(value, old, new, -1 if count is None else count)
        return replace(eval_ctx, value, old, new, count)

    def do_batch(value: Any, linecount: int, *args: Any) -> Any:
        _check_items(linecount)
        return batch(value, linecount, *args)

    def do_slice(value: Any, slices: int, *args: Any) -> Any:
        _check_items(slices)
        return slice_(value, slices, *args)

    @pass_eval_context
    def do_tojson(eval_ctx: Any, value: Any, indent: Any = None) -> Any:
        _check_width(indent)
        return tojson(eval_ctx, value, indent)

    filters.update(
        center=do_center,
        indent=do_indent,
        wordwrap=do_wordwrap,
        format=do_format,
        replace=do_replace,
        batch=do_batch,
        slice=do_slice,
        tojson=do_tojson,
    )


def _check_items(count: Any) -> None:
    if isinstance(count, int) and count > MAX_RANGE:
        raise SecurityError(f"More than {MAX_RANGE} items is not allowed.")


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
    _bounded_filters(env)
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


# Every render runs in one of these warm children (module docstring).
_CHILDREN = ChildPool(
    "tempodesk.messaging.sandbox:serve_render",
    size=CHILDREN,
    memory_bytes=CHILD_MEMORY_BYTES,
    cpu_seconds=int(MAX_SECONDS) + 1,
)


def render(
    source: str,
    context: Mapping[str, Any],
    *,
    html: bool = False,
    max_seconds: float = MAX_SECONDS,
    max_chars: int = MAX_OUTPUT_CHARS,
) -> str:
    """Render an admin template against plain data, in a child process that is killed
    after ``max_seconds``; raise TemplateProblem on any failure."""
    request = {
        "source": source,
        "context": _to_wire(_plain(context)),
        "html": html,
        "max_seconds": max_seconds,
        "max_chars": max_chars,
    }
    payload = json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        answer = json.loads(_CHILDREN.call(payload, max_seconds + _KILL_GRACE_SECONDS))
    except ChildTimeout:
        raise TemplateProblem(f"Rendering took longer than {max_seconds:g} s.") from None
    except (ChildFailed, ValueError):
        raise TemplateProblem("The template needs too much time or memory.") from None
    if "problem" in answer:
        raise TemplateProblem(answer["problem"])
    return str(answer["text"])


def serve_render(payload: bytes) -> bytes:
    """In the child: one request of :func:`render`, answered as JSON (text or problem)."""
    try:
        request = json.loads(payload.decode("utf-8", "surrogatepass"))
        text = render_here(
            request["source"],
            _from_wire(request["context"]),
            html=request["html"],
            max_seconds=request["max_seconds"],
            max_chars=request["max_chars"],
        )
        answer: dict[str, str] = {"text": text}
    except TemplateProblem as exc:
        answer = {"problem": str(exc)}
    except MemoryError:
        answer = {"problem": "The template needs too much memory."}
    return json.dumps(answer, ensure_ascii=False).encode("utf-8", "surrogatepass")


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    """Compiling is most of a render's time, and a template is sent again and again."""
    return (_HTML if html else _TEXT).from_string(source)


def render_here(
    source: str,
    context: Mapping[str, Any],
    *,
    html: bool = False,
    max_seconds: float = MAX_SECONDS,
    max_chars: int = MAX_OUTPUT_CHARS,
) -> str:
    """Render in this process (the child's half of :func:`render`): the clamps, the trace
    function's time limit and the output cap, but nothing can stop one long C call here."""
    try:
        template = _compiled(source, html)
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
    except MemoryError:
        parts.clear()
        raise TemplateProblem("The template needs too much memory.") from None
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


_FIELDS_TAG = "\u0000fields"  # no context key contains NUL: a Fields mapping on the wire


def _to_wire(value: Any) -> Any:
    if isinstance(value, Fields):
        return {_FIELDS_TAG: {k: _to_wire(v) for k, v in value.items()}}
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    return value


def _from_wire(value: Any) -> Any:
    if isinstance(value, dict):
        if list(value) == [_FIELDS_TAG]:
            return Fields({k: _from_wire(v) for k, v in value[_FIELDS_TAG].items()})
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    return value
