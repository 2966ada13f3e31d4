"""Header values decoded to plain text: encoded words, addresses, dates and Message-IDs.

The tree is parsed with the tolerant ``compat32`` policy, because the modern
``email.policy.default`` re-parses a part's ``Content-Type`` on every access (measured: a 45 KB
parameter list costs 0.5 s per access) and raises on some broken headers. So each header we
need (Subject, addresses) goes through the modern header parser here on its own, size-capped,
with a plain fallback. Subjects, names and addresses are always plain text.
"""

from __future__ import annotations

import email.header
import email.headerregistry
import email.policy
import email.utils
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from tempodesk.mail.parsing.charsets import decode_bytes, fix_surrogates, has_surrogates
from tempodesk.people.addresses import normalize_email

# The modern header parser is the slow, exact one; longer values use the plain decoder.
MODERN_HEADER_LIMIT = 16 * 1024
MAX_ADDRESSES = 500
MAX_IDS = 100
MAX_MESSAGE_ID_CHARS = 998
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_END = re.compile(r"[\r\n]")
# Whitespace between two encoded words, which RFC 2047 6.2 says is not part of the text (the
# modern parser keeps it in display names: a long folded name would gain a space).
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t]+(?==\?[^?\s]+\?[bBqQ]\?)")
_JOINED_WORDS_DEFECT = "missing trailing whitespace after encoded-word"


def unfold(value: str) -> str:
    """A folded header value on one line (line ends inside it removed)."""
    return _LINE_END.sub("", _FOLD.sub("", value))


def decode_words(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded; tolerant of every kind of garbage."""
    value = fix_surrogates(unfold(value))
    if "=?" not in value:
        return value
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # garbage encoded words: the undecoded text is the best we have
        return value
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            parts.append(decode_bytes(chunk, charset))
        else:
            parts.append(chunk)
    return fix_surrogates("".join(parts))


def one_line(value: str) -> str:
    """Control characters removed, whitespace (newlines included) collapsed to single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def modern_header(name: str, value: str) -> email.headerregistry.BaseHeader | None:
    """The modern policy's parse of one header, or None when it is too long or raises."""
    if len(value) > MODERN_HEADER_LIMIT:
        return None
    try:
        header: email.headerregistry.BaseHeader = email.policy.default.header_factory(name, value)
        return header
    except Exception:  # the modern parser raises on some broken headers
        return None


def dedupe(values: Iterable[str]) -> list[str]:
    """The non-empty values in their first order, each once."""
    seen: set[str] = set()
    out = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            out.append(value)
    return out


_ANGLE_ID = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")


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
        or has_surrogates(candidate)
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
    for match in _ID_TOKEN.finditer(unfold(value)):
        bracketed, bare = match.groups()
        if bracketed is not None:
            tokens.append(bracketed)
        elif "@" in bare:
            tokens.append(bare)
    ids = dedupe(normalize_message_id(token) for token in tokens)
    return ids[-MAX_IDS:]


_USABLE_ADDRESS = re.compile(
    r"^[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,64}@[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]{1,253}$"
)


def usable_address(value: str) -> str:
    """The lower-cased address if it can identify and reach someone (local@domain), else ""."""
    address = normalize_email(value).strip("<>").rstrip(".")
    if has_surrogates(address) or not _USABLE_ADDRESS.match(address):
        return ""
    return address


def address_list(name: str, raw_value: str, defects: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header; unusable ones dropped."""
    value = fix_surrogates(unfold(raw_value))
    pairs: list[tuple[str, str]] = []
    if not value.strip():
        return pairs
    joined = _BETWEEN_WORDS.sub(r"\1", value)
    header = modern_header(name, joined)
    if header is not None:
        try:
            for address in header.addresses:  # type: ignore[attr-defined]
                usable = usable_address(address.addr_spec)
                if usable:
                    # The modern parser escapes undecodable bytes of encoded words again.
                    pairs.append((one_line(fix_surrogates(address.display_name)), usable))
        except Exception:
            pairs = []
        defects.extend(
            f"{name}: {type(defect).__name__}"
            for defect in header.defects
            if joined == value or str(defect) != _JOINED_WORDS_DEFECT
        )
    if not pairs:
        try:
            found = email.utils.getaddresses([value])
        except Exception:
            found = []
        for display, address in found:
            usable = usable_address(address)
            if usable:
                pairs.append((one_line(decode_words(display)), usable))
    return pairs[:MAX_ADDRESSES]


def parse_date(value: str, defects: list[str]) -> datetime | None:
    """A Date header as an aware UTC datetime; None (and a defect) when it is unparseable."""
    try:
        parsed = email.utils.parsedate_to_datetime(fix_surrogates(unfold(value)).strip())
        if parsed.tzinfo is None:
            # RFC 5322 "-0000": the time is UTC but the sender's zone is unknown.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except Exception:  # every kind of malformed date raises something different
        defects.append("Date: unparseable")
        return None
