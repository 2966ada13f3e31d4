"""Raw RFC 5322 bytes in, a plain :class:`ParsedMail` out — or a :class:`MailRejected` reason.

Pure: no database, no network, no Temporal. The ingestion path stores the raw bytes first and
then calls :func:`parse`; whatever comes back is data the filters and the router read.

Why it is built this way (RELIABILITY.md R7, R12, R13, R14):

- **Guards before parsing.** Size, header block, MIME part count and nesting depth, and the
  parameter count of ``Content-Type``/``Content-Disposition`` headers are checked with cheap
  byte scans first, because the stdlib parser is superlinear on exactly those shapes (deep
  nesting recurses, parameter lists are re-split on every access). A message over a limit is
  refused with a :class:`MailRejected` kind the caller quarantines; it is never half-parsed.
- **Structure with ``compat32``, headers with the modern policy one at a time.** The modern
  ``email.policy.default`` re-parses a part's ``Content-Type`` on every access (measured: a
  45 KB parameter list costs 0.5 s per access) and raises on some broken headers. So the tree
  is parsed with the tolerant ``compat32`` policy and each header we need (Subject, addresses)
  goes through the modern header parser on its own, size-capped, with a plain fallback.
- **Best effort, never an unexpected exception.** Broken MIME, unknown charsets, bad base64,
  8-bit headers and the like become ``defects`` strings; only the guard limits, a message
  without any sender address, or one with nothing readable at all raise :class:`MailRejected`.
- **Customer HTML is sanitised here, at ingest** (nh3/ammonia allowlist), and is escaped again
  when rendered; subjects, names and filenames are always plain text. The sanitiser has a size
  and a time budget: large HTML goes to a long-lived child process that is killed when it
  overruns (:func:`sanitize_html`).
"""

from __future__ import annotations

import atexit
import codecs
import email.header
import email.headerregistry
import email.policy
import email.utils
import hashlib
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesFeedParser
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import nh3

from tempodesk.core.files import safe_filename
from tempodesk.people.addresses import normalize_email

__all__ = [
    "HTML_TOO_COMPLEX",
    "HTML_TOO_LARGE",
    "Attachment",
    "MailRejected",
    "ParsedMail",
    "content_digest",
    "dedupe_key",
    "html_to_text",
    "normalize_message_id",
    "parse",
    "parse_id_list",
    "sanitize_filename",
    "sanitize_html",
    "trim_quoted",
]

MAX_HTML_BYTES = 2 * 1024 * 1024
HTML_TOO_LARGE = "This HTML part is too large to display; download the raw message."
HTML_TOO_COMPLEX = "This HTML part is too complex to display; download the raw message."
# Up to this size nh3 runs in-process: its worst case measured here stays under 0.05 s.
IN_PROCESS_HTML_CHARS = 16 * 1024
SANITIZE_TIMEOUT_SECONDS = 0.8
# html_to_text is pure Python; past this the body text comes from the first part only.
MAX_HTML_FOR_TEXT = 1024 * 1024
# Beyond these the stdlib's parameter splitting gets quadratic; no real mail comes close.
MAX_PARAM_HEADER_BYTES = 16 * 1024
MAX_PARAM_SEPARATORS = 100
# Each Message.get() scans the part's header list, so the total count bounds the walk's cost.
MAX_HEADER_FIELDS = 10_000
# The modern header parser is the slow, exact one; longer values use the plain decoder.
MODERN_HEADER_LIMIT = 16 * 1024
MAX_ADDRESSES = 500
MAX_IDS = 100
MAX_MESSAGE_ID_CHARS = 998
# A safety net only: the guards keep real parse times far below it (RELIABILITY R14: < 5 s).
PARSE_DEADLINE_SECONDS = 5.0
_FEED_CHUNK = 256 * 1024

REJECT_KINDS = frozenset(
    {"too_large", "header_too_large", "too_many_parts", "too_deep", "unparseable", "no_sender"}
)


class MailRejected(Exception):
    """The message cannot become a ticket; the caller quarantines the raw bytes with the reason.

    ``kind`` is one of :data:`REJECT_KINDS` (machine-readable, for counters and the health
    page); ``reason`` is a sentence an admin can read.
    """

    def __init__(self, kind: str, reason: str) -> None:
        if kind not in REJECT_KINDS:
            raise ValueError(f"unknown rejection kind {kind!r}")
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass
class Attachment:
    """A part that is not the body: a file, an inline image, a forwarded message, a DSN report.

    The filename is sanitised on construction, whoever builds the object: it is metadata only
    (ASVS V12.3.1) and is shown to agents, so it never carries path parts or control characters.
    """

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None

    def __post_init__(self) -> None:
        self.filename = sanitize_filename(self.filename)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ParsedMail:
    """What one inbound message says, decoded to text; see :func:`parse`."""

    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    return_path: str | None = None
    date: datetime | None = None
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    size: int = 0

    def header(self, name: str) -> str | None:
        """The first value of a header (decoded), or None; ``name`` is case-insensitive."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]


# ---------------------------------------------------------------------------------------------
# Message-IDs and dedupe keys


_ANGLE_ID = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_message_id(value: str | None) -> str:
    """The bare id of a Message-ID-like value: no folding, whitespace or ``<>``; "" for garbage.

    ``<a@b>``, `` <a@b> ``, ``a@b`` and a folded ``<a@\\r\\n b>`` all give ``a@b`` (R5 f): the
    same message delivered twice must produce the same key. Case is kept (the left part is
    case-sensitive). Garbage — nothing left, control characters, stray angle brackets, or
    longer than a header line may be — gives "".
    """
    if not value:
        return ""
    match = _ANGLE_ID.search(value)
    candidate = match.group(1) if match else value
    candidate = _WHITESPACE.sub("", candidate)
    if (
        not candidate
        or len(candidate) > MAX_MESSAGE_ID_CHARS
        or _CONTROL.search(candidate)
        or "<" in candidate
        or ">" in candidate
        or _has_surrogates(candidate)
    ):
        return ""
    return candidate


_ID_TOKEN = re.compile(r"<([^<>]*)>|([^\s,<>]+)")


def parse_id_list(value: str | None) -> list[str]:
    """The ids of an In-Reply-To or References value, in order, normalised and deduplicated.

    Ids are normally in ``<>``; some mailers omit them, so a bare word counts too when it has
    an ``@`` (old mailers append comments such as ``(Jana's message of …)``, which must not
    become ids). At most the last :data:`MAX_IDS` are kept: a References chain lists the
    oldest first, and the newest are the useful ones.
    """
    if not value:
        return []
    tokens = []
    for match in _ID_TOKEN.finditer(_unfold(value)):
        bracketed, bare = match.groups()
        if bracketed is not None:
            tokens.append(bracketed)
        elif "@" in bare:
            tokens.append(bare)
    ids = _dedupe(normalize_message_id(token) for token in tokens)
    return ids[-MAX_IDS:]


def content_digest(raw: bytes) -> str:
    """SHA-256 (hex) of the raw bytes: the identity of the content, whatever its headers say."""
    return hashlib.sha256(raw).hexdigest()


def dedupe_key(raw: bytes, parsed: ParsedMail | None) -> str:
    """The durable dedupe key of an inbound message (RELIABILITY rule 2, R5).

    ``mid:<normalised Message-ID>`` when the message has a sane one (at most 900 characters,
    so the key still fits Temporal's 1,000-character id limit), else ``sha256:<digest>`` of the
    raw bytes — never random, so a message without Message-ID delivered twice still collapses.

    A Message-ID is chosen by the sender, so it is not proof of identity (R5 g): the caller
    combines this key with the sender address, and a key it has seen with different content
    (:func:`content_digest`) goes to a new ticket or quarantine, never into the first one.
    """
    message_id = parsed.message_id if parsed is not None else ""
    if message_id and len(message_id) <= 900:
        return f"mid:{message_id}"
    return f"sha256:{content_digest(raw)}"


# ---------------------------------------------------------------------------------------------
# Guards: cheap byte scans before the stdlib parser sees anything


# Two line ends in a row, as the stdlib feed parser splits lines (\r\n is one line end).
_BLANK_LINE = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
# Runs over a lower-cased copy: a leading literal lets the regex engine skip ahead at C speed,
# where an (?i) or ^-anchored pattern costs ~0.5 s per 25 MB.
_PARAM_HEADER = re.compile(rb"content-(type|disposition)[ \t]*:")
_LOGICAL_LINE_REST = re.compile(rb"[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")


def _at_line_start(data: bytes, position: int) -> bool:
    return position == 0 or data[position - 1 : position] in (b"\n", b"\r")


def _reject_if_misshapen(
    raw: bytes, *, max_header_bytes: int, max_parts: int, max_depth: int
) -> None:
    """Raise MailRejected for shapes the stdlib parser handles too slowly or not at all."""
    if raw.startswith((b"\n", b"\r")):
        header_bytes = 0
    else:
        blank = _BLANK_LINE.search(raw, 0, max_header_bytes + 4)
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


# ---------------------------------------------------------------------------------------------
# Text helpers


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogates(value: str) -> bool:
    return _SURROGATE.search(value) is not None


def _fix_surrogates(value: str) -> str:
    """Turn the parser's escaped 8-bit bytes back into text: UTF-8 if valid, else cp1252.

    The stdlib reads header and body bytes as ASCII with ``surrogateescape``; raw 8-bit header
    bytes (RFC 6532 UTF-8, or a legacy charset without encoded words) come back as lone
    surrogates, which no database or template accepts.
    """
    if not _has_surrogates(value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


# Labels mail clients use that Python lacks or that a superset decodes better (WHATWG does the
# same: ISO-8859-1 is read as windows-1252, GB2312 as GB18030).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "unicode-1-1-utf-7": "utf-7",
    "iso-2022-jp": "iso2022_jp_ext",
}
# Text codecs that turn data into something other than its text, or that are platform-only.
_UNSAFE_CODECS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}
)


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _UNSAFE_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text: the declared charset, else UTF-8, else the declared one or cp1252 lossy."""
    codec = _codec(charset)
    if codec:
        try:
            return data.decode(codec)
        except Exception:  # exotic codecs raise more than UnicodeDecodeError
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec:
        try:
            return data.decode(codec, "replace")
        except Exception:
            pass
    return data.decode("cp1252", "replace")


_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_END = re.compile(r"[\r\n]")


def _unfold(value: str) -> str:
    return _LINE_END.sub("", _FOLD.sub("", value))


def _decode_words(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded; tolerant of every kind of garbage."""
    value = _fix_surrogates(_unfold(value))
    if "=?" not in value:
        return value
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # garbage encoded words: the undecoded text is the best we have
        return value
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            parts.append(_decode_bytes(chunk, charset))
        else:
            parts.append(chunk)
    return _fix_surrogates("".join(parts))


def _one_line(value: str) -> str:
    """Control characters removed, whitespace (newlines included) collapsed to single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _modern_header(name: str, value: str) -> email.headerregistry.BaseHeader | None:
    """The modern policy's parse of one header, or None when it is too long or raises."""
    if len(value) > MODERN_HEADER_LIMIT:
        return None
    try:
        header: email.headerregistry.BaseHeader = email.policy.default.header_factory(name, value)
        return header
    except Exception:  # the modern parser raises on some broken headers
        return None


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            out.append(value)
    return out


# ---------------------------------------------------------------------------------------------
# Addresses and dates

_USABLE_ADDRESS = re.compile(
    r"^[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,64}@[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,253}$"
)


def _usable_address(value: str) -> str:
    """The lower-cased address if it can identify and reach someone (local@domain), else ""."""
    address = normalize_email(value).strip("<>").rstrip(".")
    if _has_surrogates(address) or not _USABLE_ADDRESS.match(address):
        return ""
    return address


def _address_list(name: str, raw_value: str, defects: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header; unusable ones dropped."""
    value = _fix_surrogates(_unfold(raw_value))
    pairs: list[tuple[str, str]] = []
    if not value.strip():
        return pairs
    header = _modern_header(name, value)
    if header is not None:
        try:
            for address in header.addresses:  # type: ignore[attr-defined]
                usable = _usable_address(address.addr_spec)
                if usable:
                    # The modern parser escapes undecodable bytes of encoded words again.
                    pairs.append((_one_line(_fix_surrogates(address.display_name)), usable))
        except Exception:
            pairs = []
        defects.extend(f"{name}: {type(defect).__name__}" for defect in header.defects)
    if not pairs:
        try:
            found = email.utils.getaddresses([value])
        except Exception:
            found = []
        for display, address in found:
            usable = _usable_address(address)
            if usable:
                pairs.append((_one_line(_decode_words(display)), usable))
    return pairs[:MAX_ADDRESSES]


def _parse_date(value: str, defects: list[str]) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(_fix_surrogates(_unfold(value)).strip())
        if parsed.tzinfo is None:
            # RFC 5322 "-0000": the time is UTC but the sender's zone is unknown.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except Exception:  # every kind of malformed date raises something different
        defects.append("Date: unparseable")
        return None


# ---------------------------------------------------------------------------------------------
# Filenames


_DEFAULT_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
}


def sanitize_filename(name: str | None) -> str:
    """A filename from a mail header made safe (``tempodesk.core.files.safe_filename``), its
    encoded words and raw 8-bit bytes decoded first."""
    return safe_filename(_fix_surrogates(_decode_words(name or "")))


# ---------------------------------------------------------------------------------------------
# HTML


_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strike",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u",
    "ul",
}  # fmt: skip
# Tags whose content is code or chrome, not message text: removed with everything inside.
_CLEAN_CONTENT_TAGS = {
    "script", "style", "title", "head", "svg", "math", "template", "iframe", "object",
    "embed", "applet", "noframes", "noembed", "xmp", "textarea", "select", "frameset",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "*": {"dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "table": {"border", "cellpadding", "cellspacing"},
    "ol": {"start", "type"},
    "li": {"value"},
    "col": {"span"},
    "colgroup": {"span"},
}
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_IMAGE_SOURCE = re.compile(r"^(?:cid:|data:image/(?:png|jpeg|jpg|gif|webp|bmp);)", re.I)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Per attribute, because url_schemes is global: data: is fine for an <img>, not for <a>.
    if attribute == "href":
        return value if value.strip().lower().startswith(_LINK_SCHEMES) else None
    if attribute == "src":
        # Remote images are tracking pixels (and leak the agent's IP); only embedded ones stay.
        return value if tag == "img" and _IMAGE_SOURCE.match(value.strip()) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags=_CLEAN_CONTENT_TAGS,
    attributes=_ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
    url_schemes={"http", "https", "mailto", "cid", "data"},
    url_relative="deny",
)


def _clean(html: str) -> str:
    """nh3 with our allowlist, in this process (the sanitiser child runs this too)."""
    return _CLEANER.clean(html)


# The child serves length-prefixed requests on stdin/stdout until its stdin closes.
_CHILD_CODE = """
import sys
from tempodesk.mail.parse import _clean
requests, answers = sys.stdin.buffer, sys.stdout.buffer
answers.write(b"R")
answers.flush()
while len(head := requests.read(8)) == 8:
    html = requests.read(int.from_bytes(head, "big")).decode("utf-8", "replace")
    cleaned = _clean(html).encode("utf-8", "replace")
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
        root = str(Path(__file__).resolve().parents[2])  # the directory holding tempodesk/
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


def sanitize_html(html: str) -> str:
    """Customer HTML reduced to an allowlist fit to show agents (RELIABILITY R12, R13).

    Formatting, lists, tables and links (http, https and mailto only, with
    ``rel="noopener noreferrer nofollow"``) stay; images stay only with ``cid:`` or
    ``data:image/`` sources (remote ones are tracking pixels); scripts, styles, frames, forms,
    ``<base>``, ``<meta>``, event handlers and ``style`` attributes go (the CSP forbids inline
    styles anyway).

    Time and size guard, as Zammad does: HTML over 2 MB is replaced by :data:`HTML_TOO_LARGE`.
    The HTML5 tree builder under nh3 is quadratic on some inputs (measured: 64 KB of nested
    ``<div>`` takes 0.5 s, 2 MB of ``<table>x`` 18 s, distinct ``<font>`` tags minutes), and a
    call into Rust cannot be interrupted. So HTML over 16 KB is sanitised in a child process
    (:class:`_SanitizerChild`) that is killed after :data:`SANITIZE_TIMEOUT_SECONDS`; then, or
    when the output balloons, the result is :data:`HTML_TOO_COMPLEX`. The raw message stays
    downloadable either way.
    """
    html = _fix_surrogates(html)
    if len(html) > MAX_HTML_BYTES or len(html.encode("utf-8", "replace")) > MAX_HTML_BYTES:
        return HTML_TOO_LARGE
    if len(html) <= IN_PROCESS_HTML_CHARS:
        cleaned: str | None = _clean(html)
    else:
        cleaned = _SANITIZER.clean(html, SANITIZE_TIMEOUT_SECONDS)
    if cleaned is None or len(cleaned) > 2 * MAX_HTML_BYTES:
        return HTML_TOO_COMPLEX
    return cleaned.strip()


# Block elements start a new line; these also leave a blank line around them.
_PARAGRAPH_TAGS = frozenset(
    {"blockquote", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre", "table", "ul"}
)
_LINE_TAGS = frozenset(
    {
        "address", "article", "aside", "caption", "dd", "div", "dt", "figcaption", "figure",
        "footer", "form", "header", "li", "main", "nav", "section", "tbody", "tfoot", "thead",
        "tr",
    }
)  # fmt: skip
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "svg", "math"})


class _TextExtractor(HTMLParser):
    """Collects text; line breaks are owed (``pending``) and paid before the next text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.pending = 0
        self.line_start = True
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[tuple[str, int]] = []

    def _break(self, newlines: int) -> None:
        if self.chunks:
            self.pending = max(self.pending, newlines)

    def _emit(self, text: str, *, marker: bool = False) -> None:
        if (self.line_start or self.pending) and not self.pre_depth:
            text = text.lstrip()
        if not text:
            return  # whitespace between blocks pays no line breaks
        if self.pending:
            self.chunks.append("\n" * self.pending)
            self.pending = 0
        self.chunks.append(text)
        self.line_start = marker

    def _block(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
            return
        if tag == "br":
            if self.chunks:
                self.pending += 1
            return
        self._block(tag)
        if tag == "pre":
            self.pre_depth += 1
        elif tag == "li":
            self._emit("- ", marker=True)
        elif tag in ("td", "th") and not self.line_start:
            self._emit(" ")
        elif tag == "a":
            self.links.append(((dict(attrs).get("href") or "").strip(), len(self.chunks)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag == "a" and self.links:
            target, start = self.links.pop()
            label = "".join(self.chunks[start:]).strip()
            if target.lower().startswith(_LINK_SCHEMES) and target.removeprefix("mailto:") != label:
                self._emit(f" ({target})" if label else target)
        self._block(tag)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        self._emit(data if self.pre_depth else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: blocks become lines, links ``text (url)``.

    Stdlib ``html.parser`` only, so it never executes or fetches anything; entities are decoded.
    Meant for sanitised HTML (see :func:`sanitize_html`): used when a message has no text/plain.
    """
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # html.parser is lenient; this is belt and braces
        pass
    text = "".join(extractor.chunks).replace("\xa0", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


# ---------------------------------------------------------------------------------------------
# Quoted replies


_ATTRIBUTION = re.compile(
    r"""^\s*(?:
        on\s.{1,300}\swrote\s?:                       # On Mon, 1 Jan 2024, Jana <j@x> wrote:
      | dne\s.{1,300}\snapsal(?:\(a\)|a)?\s?:         # Dne 1. 1. 2024 v 10:00 Jana napsal(a):
      | am\s.{1,300}\sschrieb.{0,300}:                # Am 01.01.2024 um 10:00 schrieb Jana:
      | le\s.{1,300}\sa\sécrit\s?:                    # Le 1 janv. 2024, Jana a écrit :
      | el\s.{1,300}\sescribió\s?:                    # El 1 ene 2024, Jana escribió:
      | il\s.{1,300}\sha\sscritto\s?:                 # Il 1 gen 2024, Jana ha scritto:
      | op\s.{1,300}\sschreef.{0,300}:                # Op 1 jan. 2024 schreef Jana:
      | -{2,}\s*(?:original\smessage|ursprüngliche\snachricht|původní\szpráva
          |message\sd'origine|forwarded\smessage|weitergeleitete\snachricht)\s*-{2,}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Outlook's quoted header block: "From: …" with "Sent: …"/"Date: …" in the next few lines.
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|von|od|de|van|da)\s?:\*?\s", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|odesláno|envoyé|enviado|inviato|verzonden)\s?:\*?\s",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^-- ?$")


def _reply_cut(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line):
            return index
        # Clients wrap a long attribution line: try it joined with the next line.
        if (
            index + 1 < len(lines)
            and line.strip()
            and _ATTRIBUTION.match(f"{line.rstrip()} {lines[index + 1].strip()}")
        ):
            return index
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_SENT.match(following) for following in lines[index + 1 : index + 5]
        ):
            start = index
            # Outlook draws a line of underscores above the block.
            if start > 0 and set(lines[start - 1].strip()) == {"_"}:
                start -= 1
            return start
    return None


def trim_quoted(text: str) -> str:
    """The new part of a reply, for the timeline: attribution, quote and signature cut off.

    Cuts at the first reply attribution ("On … wrote:", "Dne … napsal(a):", "Am … schrieb",
    "-----Original Message-----", Outlook's "From: … Sent: …" block), then at a signature
    separator ("-- "), then drops trailing ``>``-quoted lines. Inline answers between quoted
    lines are kept. If nothing would remain while the input has unquoted text (someone wrote
    below the quote), the whole text is returned: losing the customer's words is worse than
    showing a quote.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _reply_cut(lines)
    kept = lines[:cut] if cut is not None else list(lines)
    for index, line in enumerate(kept):
        if _SIGNATURE.match(line) and any(previous.strip() for previous in kept[:index]):
            kept = kept[:index]
            break
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip()
    if result:
        return result
    has_own_text = any(line.strip() and not line.lstrip().startswith(">") for line in lines)
    return text.strip() if has_own_text else ""


# ---------------------------------------------------------------------------------------------
# Bodies


def _unflow(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed: soft line breaks (a trailing space) rejoin paragraphs."""
    out: list[str] = []
    current: list[str] | None = None
    current_depth = 0

    def flush() -> None:
        if current is not None:
            body = "".join(current)
            prefix = ">" * current_depth
            out.append(f"{prefix} {body}" if prefix and body else prefix + body)

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        if soft and delsp:
            content = content[:-1]
        if current is not None and depth != current_depth:
            flush()
            current = None
        if current is None:
            current, current_depth = [content], depth
        else:
            current.append(content)
        if not soft:
            flush()
            current = None
    flush()
    return "\n".join(out)


_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean_body(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return _BODY_CONTROL.sub("", _fix_surrogates(text))


def _safe_get(part: Message, name: str) -> str | None:
    try:
        value = part.get(name)
    except Exception:
        return None
    return None if value is None else str(value)


_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def _content_type(part: Message) -> str:
    try:
        value = part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"
    return value if _CONTENT_TYPE.match(value) else "application/octet-stream"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return _fix_surrogates(str(value))


def _payload_bytes(part: Message, defects: list[str]) -> bytes:
    """The decoded body of a leaf part (base64, quoted-printable, uuencode undone)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception as error:
        defects.append(f"undecodable body: {type(error).__name__}")
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("ascii", "surrogateescape")
    return b""


def _flattened_body(part: Message, defects: list[str]) -> bytes:
    """The body of a part whose payload the parser split up (message/*, delivery reports)."""
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=email.policy.compat32).flatten(part)
    except Exception as error:
        defects.append(f"could not re-serialise an enclosed message: {type(error).__name__}")
        return b""
    data = buffer.getvalue()
    if data.startswith((b"\r\n", b"\n")):
        # A part without headers of its own (the default type inside multipart/digest).
        return data.lstrip(b"\r").removeprefix(b"\n")
    blank = _BLANK_LINE.search(data)
    return data[blank.end() :] if blank else b""


def _part_filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return name or ""


@dataclass
class _Walk:
    max_depth: int
    max_attachment_bytes: int
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def visit(self, part: Message, depth: int) -> None:
        self.defects.extend(type(defect).__name__ for defect in getattr(part, "defects", []))
        if depth > self.max_depth:
            # The byte scan missed this nesting (an exotic boundary spelling); stop here.
            self.defects.append(f"parts nested deeper than {self.max_depth} levels ignored")
            return
        ctype = _content_type(part)
        maintype = ctype.split("/", 1)[0]
        if part.is_multipart() and maintype == "multipart":
            for child in part.get_payload():
                if isinstance(child, Message):
                    self.visit(child, depth + 1)
            return
        try:
            disposition = part.get_content_disposition()
        except Exception:
            disposition = None
        if part.is_multipart():
            # message/rfc822, message/global, message/delivery-status: the parser split them.
            self._attach(part, ctype, _flattened_body(part, self.defects), disposition)
            return
        if maintype == "multipart":
            self.defects.append(f"{ctype} without usable boundary; read as text")
            ctype = "text/plain"
        if ctype in ("text/plain", "text/html") and disposition != "attachment":
            self._body(part, ctype)
            return
        self._attach(part, ctype, _payload_bytes(part, self.defects), disposition)

    def _body(self, part: Message, ctype: str) -> None:
        data = _payload_bytes(part, self.defects)
        try:
            charset = part.get_content_charset()
        except Exception:
            charset = None
        if charset and not _codec(charset):
            self.defects.append(f"unknown charset {charset[:40]!r}; decoded as UTF-8/cp1252")
        text = _clean_body(_decode_bytes(data, charset))
        if ctype == "text/html":
            self.htmls.append(text)
            return
        if (_param(part, "format") or "").lower() == "flowed":
            text = _unflow(text, (_param(part, "delsp") or "").lower() == "yes")
        self.texts.append(text)

    def _attach(self, part: Message, ctype: str, data: bytes, disposition: str | None) -> None:
        filename = _part_filename(part)
        if not filename and ctype in ("message/rfc822", "message/global"):
            enclosed = part.get_payload(0) if part.is_multipart() else None
            subject = _safe_get(enclosed, "subject") if isinstance(enclosed, Message) else None
            filename = f"{_one_line(_decode_words(subject or ''))[:100] or 'forwarded-message'}.eml"
        if not filename:
            filename = "attachment" + _DEFAULT_EXTENSIONS.get(ctype, "")
        if len(data) > self.max_attachment_bytes:
            self.defects.append(
                f"attachment {sanitize_filename(filename)!r} ({len(data)} bytes) is over the "
                f"{self.max_attachment_bytes}-byte limit; kept only in the raw message"
            )
            return
        content_id = normalize_message_id(_safe_get(part, "content-id")) or None
        self.attachments.append(
            Attachment(
                filename=filename,
                content_type=ctype,
                data=data,
                # Referenced from the HTML by cid: rather than offered as a file of its own.
                inline=content_id is not None and disposition != "attachment",
                content_id=content_id,
            )
        )


# ---------------------------------------------------------------------------------------------
# parse()


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


def parse(
    raw: bytes,
    *,
    max_bytes: int = 25 * 1024 * 1024,
    max_header_bytes: int = 128 * 1024,
    max_parts: int = 500,
    max_depth: int = 30,
    max_attachment_bytes: int = 25 * 1024 * 1024,
    max_lines: int = 1_000_000,
) -> ParsedMail:
    """Parse one raw inbound message; see the module docstring for the approach.

    Raises :class:`MailRejected` for a message over a guard limit (``too_large`` in bytes or
    lines, ``header_too_large``, ``too_many_parts``, ``too_deep``), without any usable sender
    address in From, Reply-To or Sender (``no_sender``), or with nothing readable
    (``unparseable``; also when the parser outruns its safety-net deadline).
    Everything else odd is recorded in ``defects`` and parsed as well as it can be. ``raw`` is
    only read, never changed.
    """
    if not isinstance(raw, bytes):
        raise TypeError("parse() takes the raw message as bytes")
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
    raw_headers = list(message.raw_items())
    if not raw_headers:
        raise MailRejected("unparseable", "no header fields: this is not an RFC 5322 message")

    defects: list[str] = []
    # Values are text for filters and storage: one line, no control characters (no NUL).
    headers = [(name.strip().lower(), _one_line(_decode_words(v))) for name, v in raw_headers]
    first: dict[str, str] = {}
    joined: dict[str, list[str]] = {}
    for name, value in raw_headers:
        key = name.strip().lower()
        first.setdefault(key, value)
        joined.setdefault(key, []).append(value)

    senders = _address_list("from", first.get("from", ""), defects)
    from_name, from_address = senders[0] if senders else ("", "")
    if "from" in first and not from_address:
        defects.append("From: no usable address")
    reply_to = next(iter(_address_list("reply-to", first.get("reply-to", ""), defects)), ("", ""))
    sender_header = _address_list("sender", first.get("sender", ""), defects)
    if not (from_address or reply_to[1] or sender_header):
        raise MailRejected("no_sender", "no usable address in From, Reply-To or Sender")

    subject_raw = _fix_surrogates(_unfold(first.get("subject", "")))
    subject_header = _modern_header("subject", subject_raw) if subject_raw else None
    subject = _decode_words(subject_raw)
    if subject_header is not None:
        defects.extend(f"Subject: {type(d).__name__}" for d in subject_header.defects)
        # The modern parser is exact about whitespace between encoded words, but decodes a
        # mislabelled charset (GB2312 text using GBK characters) worse than our aliases do.
        modern = _fix_surrogates(str(subject_header))
        if modern.count("\ufffd") <= subject.count("\ufffd"):
            subject = modern
    if len(joined.get("message-id", [])) > 1:
        defects.append("Message-ID: more than one; the first is used")
    return_path: str | None = None
    if "return-path" in first:
        value = _fix_surrogates(_unfold(first["return-path"])).strip()
        return_path = (
            ""
            if value.replace(" ", "") == "<>"
            else _usable_address(email.utils.parseaddr(value)[1])
        )

    walk = _Walk(max_depth=max_depth, max_attachment_bytes=max_attachment_bytes)
    walk.visit(message, 1)
    text = "\n\n".join(t.strip("\n") for t in walk.texts if t.strip())
    html: str | None = None
    if walk.htmls:
        html = sanitize_html("\n".join(walk.htmls))
        if html in (HTML_TOO_LARGE, HTML_TOO_COMPLEX):
            defects.append(f"HTML body not displayed: {html}")
            text = text or html
        elif not text:
            if len(html) > MAX_HTML_FOR_TEXT:
                defects.append("text taken from the first 1 MB of the HTML body")
            text = html_to_text(html[:MAX_HTML_FOR_TEXT])

    return ParsedMail(
        message_id=normalize_message_id(first.get("message-id", "")),
        in_reply_to=parse_id_list(" ".join(joined.get("in-reply-to", []))),
        references=parse_id_list(" ".join(joined.get("references", []))),
        subject=_one_line(_fix_surrogates(subject)),
        from_address=from_address,
        from_name=from_name,
        reply_to=reply_to[1],
        to=_dedupe(a for _, a in _address_list("to", ",".join(joined.get("to", [])), defects)),
        cc=_dedupe(a for _, a in _address_list("cc", ",".join(joined.get("cc", [])), defects)),
        return_path=return_path,
        date=_parse_date(first["date"], defects) if "date" in first else None,
        text=text,
        html=html,
        attachments=walk.attachments,
        headers=headers,
        defects=_dedupe(walk.defects + defects)[:200],
        size=len(raw),
    )
