"""IMAP on the wire, as `tempodesk.mail.imap` speaks it over imaplib.

imaplib sends arguments as they are and hands answers back as flat lists of bytes and
(text, literal) tuples. These helpers do the rest: folder names in modified UTF-7 and quoted,
arguments checked before they reach a command line (no CR/LF injection, RFC 3501 atoms), FETCH
answers grouped per message with their literals, response codes and error texts made readable,
and, for IDLE (which Python 3.11's imaplib lacks), answers read off the connection only when
there is something to read. The errors the client raises live here too (`tempodesk.mail.imap`
exports them).
"""

from __future__ import annotations

import base64
import imaplib
import io
import re
import select
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias, cast

# imaplib answers (typ, data); data mixes bytes, (bytes, literal) tuples and None.
Data: TypeAlias = list[Any]

MAX_UID = 2**32 - 1


class ImapError(Exception):
    """Anything that went wrong talking to the IMAP server."""


class ImapAuthError(ImapError):
    """The server refused the credentials (or refuses to accept them on this connection)."""


class ImapUnavailable(ImapError):
    """No usable connection: refused, timed out, dropped, TLS failed or untrusted, or the
    server says it is temporarily unavailable. Retrying later is the right answer."""


class ImapProtocolError(ImapError):
    """The server answered something we cannot work with (missing folder, read-only
    mailbox, malformed response, a body shorter than announced)."""


class ImapMessageMissing(ImapProtocolError):
    """The UID is not (or no longer) in the folder, e.g. another client moved it."""


class ImapShortRead(ImapProtocolError):
    """A body came back shorter than the server announced. Retrying may help (a dropped
    transfer); a server whose RFC822.SIZE is only an estimate fails the same way every time,
    so a poller should quarantine the UID after a few attempts (rule 7), not block on it."""

    def __init__(self, message: str, *, uid: int, received: int, announced: int) -> None:
        super().__init__(message)
        self.uid = uid
        self.received = received
        self.announced = announced


@dataclass
class Fetched:
    """One message's FETCH response: its text without literals, plus the literals."""

    text: bytes = b""
    literals: list[tuple[bytes, int, bytes]] = field(default_factory=list)

    @property
    def uid(self) -> int | None:
        found = re.search(rb"\bUID (\d+)", self.text)
        return int(found.group(1)) if found else None

    @property
    def arrived(self) -> datetime | None:
        """INTERNALDATE: when the server received the message."""
        found = re.search(rb'\bINTERNALDATE "[^"]+"', self.text)
        moment = imaplib.Internaldate2tuple(found.group(0)) if found else None
        return datetime.fromtimestamp(time.mktime(moment), UTC) if moment else None

    def number(self, name: bytes) -> int | None:
        found = re.search(rb"\b" + re.escape(name) + rb" (\d+)", self.text)
        return int(found.group(1)) if found else None

    def literal(self, name: bytes) -> tuple[int, bytes] | None:
        for key, declared, data in self.literals:
            if key.upper() == name:
                return declared, data
        return None


def parse_fetch(data: Data) -> list[Fetched]:
    """Group imaplib's flat FETCH data into messages.

    imaplib hands each literal over as a (text before it, literal) tuple and the text after
    the last literal as bytes; a new message always starts with `<number> (`, a continuation
    never does (it starts with a space or `)`)."""
    messages: list[Fetched] = []
    for item in data:
        if item is None:
            continue
        text = item[0] if isinstance(item, tuple) else item
        if not messages or re.match(rb"\d+ \(", text):
            messages.append(Fetched())
        current = messages[-1]
        current.text += text
        if isinstance(item, tuple):
            found = re.search(rb"([^\s(]+) \{(\d+)\}$", text)
            if found:
                current.literals.append((found.group(1), int(found.group(2)), item[1]))
    return messages


def response_code(conn: imaplib.IMAP4, name: str) -> str | None:
    """A response code from SELECT (UIDVALIDITY, UIDNEXT, PERMANENTFLAGS)."""
    _typ, data = conn.response(name)
    value = data[-1] if data else None
    return value.decode("ascii", "replace") if isinstance(value, bytes) else None


def byte_items(data: Data) -> list[bytes]:
    return [item for item in data if isinstance(item, bytes)]


def joined_text(data: Data) -> str:
    return " ".join(item.decode("utf-8", "replace") for item in data if isinstance(item, bytes))


def error_text(exc: BaseException) -> str:
    """imaplib puts the server's answer into its exceptions as bytes; make it readable."""
    if exc.args and isinstance(exc.args[0], bytes):
        return exc.args[0].decode("utf-8", "replace")
    return str(exc) or type(exc).__name__


def line_text(line: bytes) -> str:
    return line.decode("utf-8", "replace").strip()


def check_uid(uid: int) -> None:
    if not 0 < uid <= MAX_UID:
        raise ValueError(f"not a UID: {uid}")


def check_keyword(keyword: str) -> None:
    # An IMAP atom, and not a system flag (those start with a backslash).
    if not re.fullmatch(r"[\x21-\x7e]+", keyword) or re.search(r'[(){%*"\\\]]', keyword):
        raise ValueError(f"not a valid IMAP keyword: {keyword!r}")


def check_mailbox_name(name: str) -> None:
    if not name or any(ch in name for ch in "\r\n\0"):
        raise ValueError(f"not a valid folder name: {name!r}")


def encode_mailbox_name(name: str) -> str:
    """IMAP's modified UTF-7 (RFC 3501 5.1.3): "Erledigt ✓" -> "Erledigt &JxM-"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=")
            out.append("&" + encoded.replace(b"/", b",").decode("ascii") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def mailbox_arg(name: str) -> str:
    """A folder name as a quoted IMAP string (imaplib sends arguments as they are)."""
    encoded = encode_mailbox_name(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_line(conn: imaplib.IMAP4) -> bytes:
    """One response line read off imaplib's connection, b"" once the server has closed it.

    An untagged answer may carry a literal (`{n}` at the line's end): it is read along with
    the rest of its answer, so the stream stays in step."""
    line = conn.readline()
    if not line:
        return b""
    literal = re.search(rb"\{(\d+)\}\r\n$", line)
    if not literal:
        return line
    conn.read(int(literal.group(1)))
    rest = read_line(conn)
    return line + rest if rest else b""


def wait_readable(conn: imaplib.IMAP4, seconds: float) -> bool:
    """Whether an answer can be read within `seconds`, without reading any of it."""
    sock = conn.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    # Data imaplib's buffered reader already holds is invisible to select(); peek at it
    # without blocking (a timeout inside the reader would break it for good).
    previous = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        if cast(io.BufferedReader, conn.file).peek(1):
            return True
    except (BlockingIOError, ssl.SSLWantReadError):
        pass
    finally:
        sock.settimeout(previous)
    readable, _, _ = select.select([sock], [], [], seconds)
    return bool(readable)
