"""Guards: what is checked before and around the stdlib parser (RELIABILITY.md R7, R13, R14).

Size, line count, header block, MIME part count and nesting depth, and the parameter count of
``Content-Type``/``Content-Disposition`` headers are checked with cheap byte scans first,
because the stdlib parser is superlinear on exactly those shapes (deep nesting recurses,
parameter lists are re-split on every access). Then the parser runs against a deadline and the
tree's header fields are counted. A message over a limit is refused with a
:class:`MailRejected` kind the caller quarantines; it is never half-parsed.
"""

from __future__ import annotations

import email.policy
import re
import time
from email.message import Message
from email.parser import BytesFeedParser

from tempodesk.mail.parsing.parsed import MailRejected
from tempodesk.mail.parsing.parts import BLANK_LINE

# Beyond these the stdlib's parameter splitting gets quadratic; no real mail comes close.
MAX_PARAM_HEADER_BYTES = 16 * 1024
MAX_PARAM_SEPARATORS = 100
# Each Message.get() scans the part's header list, so the total count bounds the walk's cost.
MAX_HEADER_FIELDS = 10_000
# A safety net only: the guards keep real parse times far below it (RELIABILITY R14: < 5 s).
PARSE_DEADLINE_SECONDS = 5.0
_FEED_CHUNK = 256 * 1024
# Runs over a lower-cased copy: a leading literal lets the regex engine skip ahead at C speed,
# where an (?i) or ^-anchored pattern costs ~0.5 s per 25 MB.
_PARAM_HEADER = re.compile(rb"content-(type|disposition)[ \t]*:")
_LOGICAL_LINE_REST = re.compile(rb"[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")


def guarded_tree(
    raw: bytes,
    *,
    max_bytes: int,
    max_header_bytes: int,
    max_parts: int,
    max_depth: int,
    max_lines: int,
) -> Message:
    """The compat32 tree of ``raw``, once every guard passed; else :class:`MailRejected`."""
    if len(raw) > max_bytes:
        raise MailRejected("too_large", f"{len(raw)} bytes is more than the {max_bytes}-byte limit")
    if not raw.strip():
        raise MailRejected("unparseable", "the message is empty")
    # The stdlib parser spends ~0.4 us per line: 25 MB of empty lines would take 4 s.
    lines = max(raw.count(b"\n"), raw.count(b"\r"))
    if lines > max_lines:
        raise MailRejected("too_large", f"{lines} lines is more than the {max_lines}-line limit")
    _reject_if_misshapen(
        raw, max_header_bytes=max_header_bytes, max_parts=max_parts, max_depth=max_depth
    )
    message = _feed(raw, PARSE_DEADLINE_SECONDS)
    try:
        fields = sum(len(part) for part in message.walk())
    except RecursionError as error:
        raise MailRejected("too_deep", "MIME parts are nested too deeply to walk") from error
    if fields > MAX_HEADER_FIELDS:
        raise MailRejected("header_too_large", f"{fields} header fields in all parts together")
    return message


def _at_line_start(data: bytes, position: int) -> bool:
    return position == 0 or data[position - 1 : position] in (b"\n", b"\r")


def _reject_if_misshapen(
    raw: bytes, *, max_header_bytes: int, max_parts: int, max_depth: int
) -> None:
    """Raise MailRejected for shapes the stdlib parser handles too slowly or not at all."""
    if raw.startswith((b"\n", b"\r")):
        header_bytes = 0
    else:
        blank = BLANK_LINE.search(raw, 0, max_header_bytes + 4)
        header_bytes = blank.start() if blank else len(raw)
    if header_bytes > max_header_bytes:
        raise MailRejected(
            "header_too_large",
            f"the header block is larger than {max_header_bytes} bytes",
        )
    nesting = _nesting_declarations(raw, max_parts=max_parts)
    boundaries = {value for _, value in nesting if value is not None}
    delimiters, used = _delimiter_lines(raw, boundaries, max_parts)
    # A boundary no delimiter line uses (one quoted in a text body) nests nothing.
    real = [(pos, value) for pos, value in nesting if value is None or value in used]
    _replay(real, delimiters, max_parts, max_depth)


def _nesting_declarations(raw: bytes, *, max_parts: int) -> list[tuple[int, bytes | None]]:
    """Where a part nests: (position, boundary) of each multipart, (position, None) of message/*.

    Also refuses Content-Type/-Disposition headers the stdlib would take too long over: it
    splits parameters with a loop that copies the rest of the value per ';' — quadratic — and
    asks for them several times per part. The boundary is read with the stdlib's own parameter
    code (quoting, RFC 2231 continuations), so the scan sees what the parser will see.
    """
    lowered = raw.lower()
    declarations: list[tuple[int, bytes | None]] = []
    limit = 4 * max_parts + 10
    headers = (m for m in _PARAM_HEADER.finditer(lowered) if _at_line_start(lowered, m.start()))
    for count, match in enumerate(headers):
        if count > limit:
            raise MailRejected(
                "too_many_parts", f"more than {limit} Content-Type/Disposition headers"
            )
        start = match.end()
        rest = _LOGICAL_LINE_REST.match(raw, start, start + MAX_PARAM_HEADER_BYTES + 1)
        end = rest.end() if rest else start
        if end - start > MAX_PARAM_HEADER_BYTES:
            raise MailRejected(
                "header_too_large",
                f"a Content-Type or Content-Disposition header is longer than "
                f"{MAX_PARAM_HEADER_BYTES} bytes",
            )
        if raw.count(b";", start, end) > MAX_PARAM_SEPARATORS:
            raise MailRejected(
                "header_too_large",
                f"a Content-Type or Content-Disposition header has more than "
                f"{MAX_PARAM_SEPARATORS} parameters",
            )
        if match.group(1) != b"type":
            continue
        holder = Message()
        holder["Content-Type"] = raw[start:end].decode("ascii", "surrogateescape").strip()
        try:
            maintype = holder.get_content_maintype()
            boundary = holder.get_boundary() if maintype == "multipart" else None
            if maintype == "message":
                declarations.append((match.start(), None))
            elif boundary:
                declarations.append((match.start(), boundary.encode("ascii", "surrogateescape")))
        except (UnicodeError, LookupError, ValueError):
            # An RFC 2231 boundary that decodes to non-ASCII text: no line can match it, and
            # the parser treats the part as having no boundary.
            continue
    return declarations


_DELIMITER_REST = re.compile(rb"[^\r\n]{0,250}")


def _delimiter_lines(
    raw: bytes, boundaries: set[bytes], max_parts: int
) -> tuple[list[tuple[int, bytes]], set[bytes]]:
    """Every line ``--<declared boundary>[--]`` as (position, token), and the boundaries used."""
    if not boundaries:
        return [], set()
    # bytes.count and bytes.find run at memchr speed; Python only sees lines starting "--".
    dash_lines = raw.count(b"\n--") + raw.count(b"\r--")
    if dash_lines > 50 * max_parts:
        raise MailRejected("too_many_parts", f"{dash_lines} lines start with '--'")
    found: list[tuple[int, bytes]] = []
    used: set[bytes] = set()
    for needle in (b"\n--", b"\r--"):
        position = raw.find(needle)
        while position != -1:
            rest = _DELIMITER_REST.match(raw, position + 3)
            token = rest.group(0).rstrip(b" \t") if rest else b""
            boundary = token if token in boundaries else token.removesuffix(b"--")
            if boundary in boundaries:
                found.append((position + 1, token))
                used.add(boundary)
            position = raw.find(needle, position + 3)
    found.sort()
    return found, used


def _replay(
    declarations: list[tuple[int, bytes | None]],
    delimiters: list[tuple[int, bytes]],
    max_parts: int,
    max_depth: int,
) -> None:
    """Count parts and nesting by replaying declarations and delimiter lines in byte order.

    A multipart entity declares a boundary; its parts start at lines ``--boundary`` and it ends
    at ``--boundary--``. A stack of open boundaries gives the part count and the nesting depth
    the stdlib parser would recurse into. A ``message/*`` part also nests (the parser recurses
    into it); it counts as a level until the enclosing multipart's next delimiter.
    """
    events: list[tuple[int, int, bytes | None]] = [(pos, 0, value) for pos, value in declarations]
    events += [(pos, 1, token) for pos, token in delimiters]
    events.sort(key=lambda event: event[0])
    stack: list[bytes | None] = []
    parts = 0
    for _, kind, token in events:
        if kind == 0:
            stack.append(token)
            # +1: the top-level message itself is a level for the parser.
            if len(stack) + 1 > max_depth:
                raise MailRejected(
                    "too_deep", f"MIME parts are nested more than {max_depth} levels deep"
                )
            continue
        assert token is not None
        for index in range(len(stack) - 1, -1, -1):
            boundary = stack[index]
            if boundary is None:
                continue
            if token == boundary:
                del stack[index + 1 :]
                parts += 1
                if parts > max_parts:
                    raise MailRejected("too_many_parts", f"more than {max_parts} MIME parts")
                break
            if token == boundary + b"--":
                del stack[index:]
                break


def _feed(raw: bytes, deadline_seconds: float) -> Message:
    parser = BytesFeedParser(policy=email.policy.compat32)
    started = time.monotonic()
    try:
        for offset in range(0, len(raw), _FEED_CHUNK):
            parser.feed(raw[offset : offset + _FEED_CHUNK])
            if time.monotonic() - started > deadline_seconds:
                raise MailRejected(
                    "unparseable", f"the parser needed more than {deadline_seconds:g} s"
                )
        return parser.close()
    except MailRejected:
        raise
    except RecursionError as error:
        raise MailRejected("too_deep", "MIME parts are nested too deeply to parse") from error
    except Exception as error:  # anything else the stdlib raises makes this a poison message
        raise MailRejected("unparseable", f"the parser failed: {type(error).__name__}") from error
