"""The IMAP client behind Tempodesk's mailbox poller, on the stdlib's imaplib.

Why not imapclient: ARCHITECTURE.md ("Email in"). The wire format (folder names, FETCH
answers, reading while idling) is in :mod:`tempodesk.mail.imap_wire`.

Rule 1 of RELIABILITY.md shapes every method here: nothing we do while *reading* may change
what the mailbox owner sees, and the only acknowledgement, `mark_processed`, is a separate
call the poller makes after the raw bytes are stored and the ticket workflow accepted them.

- Mail is found by UID (`uids_after`), never by "unread": a person reading the mailbox in
  Thunderbird must not hide mail from us, and we must not hide mail from them.
- Bodies are read with `BODY.PEEK[]`, which never sets `\\Seen`.
- The folder is opened with SELECT (we must be able to flag and move), but never closed with
  CLOSE, which would silently expunge every `\\Deleted` message, other clients' included.
- UIDs only mean something together with UIDVALIDITY; the caller stores both and starts again
  from 0 when UIDVALIDITY changes (R19), relying on the Message-ID dedupe to make the second
  pass harmless.

Errors come as three kinds, so the poller can tell an admin what to fix: `ImapAuthError` (the
credentials), `ImapUnavailable` (the network, the server or TLS: try again later) and
`ImapProtocolError` (an answer we cannot work with). Messages never contain the password.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Literal, TypeAlias

from tempodesk.mail.imap_wire import (
    MAX_UID,
    Data,
    Fetched,
    ImapAuthError,
    ImapError,
    ImapMessageMissing,
    ImapProtocolError,
    ImapShortRead,
    ImapUnavailable,
    byte_items,
    check_keyword,
    check_mailbox_name,
    check_uid,
    error_text,
    joined_text,
    line_text,
    mailbox_arg,
    parse_fetch,
    read_line,
    response_code,
    wait_readable,
)

Security = Literal["tls", "starttls", "none"]

_Command: TypeAlias = Callable[[imaplib.IMAP4], tuple[str, Data]]

PROCESSED_KEYWORD = "$TempodeskProcessed"
# RFC 2177: servers may drop an IDLE after 30 minutes, so never idle longer than 29.
IDLE_MAX_SECONDS = 29 * 60


class ImapMailbox:
    """One IMAP folder, opened as a context manager: connect, log in, SELECT.

    `security` is "tls" (implicit TLS, usually port 993), "starttls" (upgrade on port 143;
    refused outright if the server does not offer it, so credentials never go out in clear)
    or "none" (plain text, for a server on the same host only).

    Certificates are verified with `ssl.create_default_context()`: the system CAs, hostname
    checked, TLS 1.2 or newer. `cafile` adds a private CA (an on-premises server); `verify`
    exists so tests can talk to a self-signed server and must stay on in production: without
    it anyone on the path can read the password and every customer e-mail.

    `timeout` bounds connecting and every single read or write, so a hung server surfaces as
    ImapUnavailable instead of a stuck poller.

    One instance is one connection: use it from one thread at a time.
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: Security | str,
        username: str,
        password: str,
        folder: str = "INBOX",
        timeout: float = 30.0,
        *,
        verify: bool = True,
        cafile: str | None = None,
    ) -> None:
        if security not in ("tls", "starttls", "none"):
            raise ValueError(f"security must be tls, starttls or none, not {security!r}")
        check_mailbox_name(folder)
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.folder = folder
        self.timeout = timeout
        self.verify = verify
        self.cafile = cafile
        self._conn: imaplib.IMAP4 | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._uidvalidity = 0
        self._uidnext: int | None = None
        self._permanent_flags: frozenset[str] | None = None
        self._exists = 0
        self._new_mail = False
        self._idle_tags = 0

    def __repr__(self) -> str:
        return (
            f"ImapMailbox({self.username}@{self.host}:{self.port}/{self.folder}, {self.security})"
        )

    # -- connection ----------------------------------------------------------------------

    def __enter__(self) -> ImapMailbox:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Connect, log in and SELECT the folder (what `with` does)."""
        if self._conn is not None:
            return
        conn = self._connect()
        try:
            self._login(conn)
            self._conn = conn
            self._capabilities = self._read_capabilities()
            self._select()
        except BaseException:
            self._conn = None
            with contextlib.suppress(Exception):
                conn.shutdown()
            raise

    def close(self) -> None:
        """LOGOUT (never CLOSE, which would expunge other clients' deleted mail)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn.sock.settimeout(min(self.timeout, 5.0))  # a dead server must not stall us
            conn.logout()
        with contextlib.suppress(Exception):
            conn.shutdown()

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.cafile)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> imaplib.IMAP4:
        conn: imaplib.IMAP4 | None = None
        try:
            if self.security == "tls":
                return imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=self._tls_context(), timeout=self.timeout
                )
            conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                if "STARTTLS" not in conn.capabilities:
                    raise ImapUnavailable(
                        self._say(
                            "the server does not offer STARTTLS; refusing to log in without TLS"
                        )
                    )
                conn.starttls(ssl_context=self._tls_context())
            return conn
        except BaseException as exc:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.shutdown()
            if isinstance(exc, ImapError):
                raise
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise ImapUnavailable(
                    self._say(f"TLS certificate not trusted ({exc.verify_message})")
                ) from exc
            if isinstance(exc, OSError | EOFError | imaplib.IMAP4.error):
                raise ImapUnavailable(self._say(f"cannot connect: {error_text(exc)}")) from exc
            raise

    def _login(self, conn: imaplib.IMAP4) -> None:
        """AUTHENTICATE PLAIN when offered (UTF-8 safe), LOGIN otherwise.

        Exceptions raised here are not chained to imaplib's, so no traceback can carry the
        command that held the password."""
        capabilities = {str(c).upper() for c in conn.capabilities}
        try:
            if "AUTH=PLAIN" in capabilities:
                token = f"\0{self.username}\0{self._password}".encode()
                conn.authenticate("PLAIN", lambda _challenge: token)
            elif "LOGINDISABLED" in capabilities:
                raise ImapAuthError(
                    self._say("the server refuses passwords on this connection (LOGINDISABLED)")
                )
            elif not (self.username + self._password).isascii():
                raise ImapAuthError(
                    self._say("non-ASCII credentials need AUTH=PLAIN, which the server lacks")
                )
            else:
                conn.login(self.username, self._password)
        except ImapError:
            raise
        except imaplib.IMAP4.abort as exc:
            raise ImapUnavailable(
                self._say(f"connection lost at login: {error_text(exc)}")
            ) from None
        except imaplib.IMAP4.error as exc:
            answer = error_text(exc)
            if re.search(r"\[(UNAVAILABLE|INUSE|LIMIT)\]", answer, re.IGNORECASE):
                raise ImapUnavailable(self._say(f"login refused for now: {answer}")) from None
            raise ImapAuthError(self._say(f"login failed: {answer}")) from None
        except (OSError, EOFError) as exc:
            raise ImapUnavailable(self._say(f"connection lost at login: {exc}")) from None

    def _read_capabilities(self) -> frozenset[str]:
        # The pre-login list lacks most extensions (MOVE, UIDPLUS), so ask again.
        data = self._ok("CAPABILITY", lambda conn: conn.capability())
        words = b" ".join(item for item in data if isinstance(item, bytes)).upper().split()
        return frozenset(word.decode("ascii", "replace") for word in words)

    def _select(self) -> None:
        conn = self._require()
        try:
            typ, data = conn.select(mailbox_arg(self.folder))
        except imaplib.IMAP4.readonly:
            raise ImapProtocolError(
                self._say(f"folder {self.folder!r} is read-only; mail could never be acknowledged")
            ) from None
        except (OSError, EOFError, imaplib.IMAP4.error) as exc:
            raise self._translate(exc, "SELECT") from exc
        if typ != "OK":
            raise ImapProtocolError(
                self._say(f"cannot select folder {self.folder!r}: {joined_text(data)}")
            )
        validity = response_code(conn, "UIDVALIDITY")
        if validity is None or not validity.isdigit():
            raise ImapProtocolError(self._say(f"SELECT {self.folder!r} gave no UIDVALIDITY"))
        self._uidvalidity = int(validity)
        uidnext = response_code(conn, "UIDNEXT")
        self._uidnext = int(uidnext) if uidnext and uidnext.isdigit() else None
        flags = response_code(conn, "PERMANENTFLAGS")
        self._permanent_flags = (
            frozenset(flags.strip("()").upper().split()) if flags is not None else None
        )
        exists = data[-1] if data else None
        self._exists = int(exists) if isinstance(exists, bytes) and exists.isdigit() else 0
        self._drain()

    # -- reading -------------------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[str]:
        """What the server offers after login, upper-cased (MOVE, UIDPLUS, IDLE, ...)."""
        return self._capabilities

    @property
    def uidvalidity(self) -> int:
        """The folder's UIDVALIDITY from SELECT: stored UIDs are only valid while it holds."""
        self._require()
        return self._uidvalidity

    @property
    def uidnext(self) -> int:
        """The UID the next message will get, as of SELECT (or STATUS if SELECT lacked it):
        `uidnext - 1` is where a first connect starts when old mail is not to be imported."""
        self._require()
        if self._uidnext is None:
            data = self._ok(
                "STATUS", lambda conn: conn.status(mailbox_arg(self.folder), "(UIDNEXT)")
            )
            found = re.search(rb"UIDNEXT (\d+)", b" ".join(byte_items(data)))
            if not found:
                raise ImapProtocolError(self._say("the server reports no UIDNEXT"))
            self._uidnext = int(found.group(1))
        return self._uidnext

    def uids_after(self, last_uid: int, limit: int = 100, *, also: str = "") -> list[int]:
        """UIDs above `last_uid`, oldest first, at most `limit` of them; `also` adds search
        keys of our own making (e.g. `SINCE 05-Dec-2026 UNKEYWORD $TempodeskProcessed`).

        `UID SEARCH UID n:*` always matches the highest UID in the folder, even when it is
        below n (RFC 3501: `*` is the largest UID in use), so the answer is filtered; without
        that, the newest message would be fetched on every poll."""
        if last_uid < 0 or limit < 1:
            raise ValueError("last_uid must be >= 0 and limit >= 1")
        if last_uid >= MAX_UID:
            return []
        data = self._uid("SEARCH", f"UID {last_uid + 1}:* {also}".rstrip())
        try:
            found = {int(word) for chunk in byte_items(data) for word in chunk.split()}
        except ValueError:
            raise ImapProtocolError(self._say(f"malformed SEARCH answer {data!r}")) from None
        return sorted(uid for uid in found if uid > last_uid)[:limit]

    def arrived(self, uids: list[int]) -> dict[int, datetime]:
        """When the server received each message (INTERNALDATE), by UID."""
        for uid in uids:
            check_uid(uid)
        data = self._uid("FETCH", ",".join(map(str, uids)), "(INTERNALDATE)") if uids else []
        found = ((m.uid, m.arrived) for m in parse_fetch(data))
        return {uid: when for uid, when in found if uid in uids and when is not None}

    def size(self, uid: int) -> int:
        """RFC822.SIZE, so the caller can refuse an oversized message without downloading it."""
        message = self._fetch_one(uid, "(RFC822.SIZE)")
        size = message.number(b"RFC822.SIZE")
        if size is None:
            raise ImapProtocolError(self._say(f"no RFC822.SIZE for UID {uid}"))
        return size

    def fetch(self, uid: int) -> bytes:
        """The raw message, exactly as stored, without setting \\Seen (BODY.PEEK[]).

        The byte count is checked against the literal's announced length and against
        RFC822.SIZE: a truncated message must fail loudly rather than become a ticket with
        half an attachment."""
        message = self._fetch_one(uid, "(RFC822.SIZE BODY.PEEK[])")
        body = message.literal(b"BODY[]")
        if body is None:
            if re.search(rb"BODY\[\] NIL", message.text):
                raise ImapMessageMissing(self._say(f"UID {uid} has no body any more"))
            raise ImapProtocolError(self._say(f"no BODY[] in the answer for UID {uid}"))
        declared, raw = body
        size = message.number(b"RFC822.SIZE")
        announced = max(declared, size or 0)
        if len(raw) < announced:
            raise ImapShortRead(
                self._say(
                    f"short read of UID {uid}: got {len(raw)} bytes, the server announced "
                    f"{declared} (RFC822.SIZE {size})"
                ),
                uid=uid,
                received=len(raw),
                announced=announced,
            )
        return raw

    # -- acknowledging -------------------------------------------------------------------

    def mark_processed(
        self, uid: int, *, move_to: str | None = None, keyword: str = PROCESSED_KEYWORD
    ) -> None:
        """Acknowledge a message on the server: add `keyword` and, with `move_to`, move it
        there (the folder is created, and subscribed so people see it, when missing).

        Call only after the raw bytes are stored and the workflow accepted them (rule 1).
        The keyword goes first: a crash between the two steps leaves a flagged message in
        place, which the next run recognises. Repeating the call, or calling it for a UID
        that an earlier run already moved away, is harmless.

        Without MOVE the message is copied, flagged \\Deleted and removed with UID EXPUNGE
        (UIDPLUS), which touches only this UID. A server without UIDPLUS gets no EXPUNGE at
        all: a plain EXPUNGE would also erase messages other clients merely marked deleted.
        A crash between COPY and EXPUNGE can leave a second copy in `move_to` on the rerun;
        that is the price of never losing one.
        """
        check_uid(uid)
        check_keyword(keyword)
        if move_to is not None:
            check_mailbox_name(move_to)
            if move_to == self.folder:
                raise ValueError("move_to must differ from the folder being read")
        if self._keyword_storable(keyword):
            self._uid("STORE", str(uid), "+FLAGS.SILENT", f"({keyword})")
        elif move_to is None:
            raise ImapProtocolError(
                self._say(
                    f"folder {self.folder!r} cannot keep the keyword {keyword}; "
                    "configure a folder to move processed mail to"
                )
            )
        if move_to is not None:
            self._move(uid, move_to)

    def _keyword_storable(self, keyword: str) -> bool:
        # No PERMANENTFLAGS at all means "everything is permanent" (RFC 3501 7.1).
        if self._permanent_flags is None:
            return True
        return "\\*" in self._permanent_flags or keyword.upper() in self._permanent_flags

    def _move(self, uid: int, target: str) -> None:
        if "MOVE" in self._capabilities:
            self._uid_into("MOVE", uid, target)
            return
        self._uid_into("COPY", uid, target)
        self._uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
        if "UIDPLUS" in self._capabilities:
            self._uid("EXPUNGE", str(uid))

    def _uid_into(self, command: str, uid: int, target: str) -> None:
        """UID COPY/MOVE, creating the target when the server says it does not exist."""
        typ, data = self._uid_raw(command, str(uid), mailbox_arg(target))
        if typ == "NO" and not self._folder_exists(target):
            self._create(target)
            typ, data = self._uid_raw(command, str(uid), mailbox_arg(target))
        if typ != "OK":
            raise ImapProtocolError(
                self._say(f"UID {command} {uid} to {target!r} refused: {joined_text(data)}")
            )

    def _folder_exists(self, name: str) -> bool:
        data = self._ok("LIST", lambda conn: conn.list('""', mailbox_arg(name)))
        return any(item for item in data if item)

    def _create(self, name: str) -> None:
        typ, data = self._call("CREATE", lambda conn: conn.create(mailbox_arg(name)))
        if typ != "OK" and "ALREADYEXISTS" not in joined_text(data).upper():
            raise ImapProtocolError(
                self._say(f"cannot create folder {name!r}: {joined_text(data)}")
            )
        self._call("SUBSCRIBE", lambda conn: conn.subscribe(mailbox_arg(name)))

    # -- waiting -------------------------------------------------------------------------

    def idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds (at most 29 minutes) for the server to announce new
        mail (IMAP IDLE, RFC 2177). True when it did, False on timeout.

        It may answer True without new mail (an EXPUNGE and an EXISTS in one burst); callers
        poll `uids_after` anyway, so that only costs one search. News that arrived during
        earlier commands is reported at once rather than waited for. Python 3.11's imaplib
        has no idle(), so this speaks the protocol on imaplib's socket itself, reading only
        when data is there, which keeps the connection usable afterwards."""
        conn = self._require()
        if "IDLE" not in self._capabilities:
            raise ImapProtocolError(self._say("the server does not support IDLE; poll instead"))
        self._drain()
        if self._new_mail:
            self._new_mail = False
            return True
        self._idle_tags += 1
        tag = f"TDIDLE{self._idle_tags}".encode()
        try:
            conn.send(tag + b" IDLE\r\n")
            self._until_idling(tag)
            deadline = time.monotonic() + min(max(timeout, 0.0), IDLE_MAX_SECONDS)
            while not self._new_mail:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not wait_readable(conn, remaining):
                    break
                self._note(self._read_line())
            conn.send(b"DONE\r\n")
            self._until_idle_done(tag)
        except (OSError, EOFError, imaplib.IMAP4.error) as exc:
            raise self._translate(exc, "IDLE") from exc
        news, self._new_mail = self._new_mail, False
        return news

    def _until_idling(self, tag: bytes) -> None:
        """Read up to the server's go-ahead (`+`) for IDLE, noting what comes before it."""
        while True:
            line = self._read_line()
            if line.startswith(b"+"):
                return
            if line.startswith(tag + b" "):
                raise ImapProtocolError(self._say(f"IDLE refused: {line_text(line)}"))
            self._note(line)

    def _until_idle_done(self, tag: bytes) -> None:
        """Read up to IDLE's tagged answer after DONE, noting what comes before it."""
        while True:
            line = self._read_line()
            if line.startswith(tag + b" "):
                if line[len(tag) + 1 :].upper().startswith(b"OK"):
                    return
                raise ImapProtocolError(self._say(f"IDLE ended badly: {line_text(line)}"))
            self._note(line)

    def _read_line(self) -> bytes:
        line = read_line(self._require())
        if not line:
            raise ImapUnavailable(self._say("the server closed the connection"))
        return line

    def _note(self, line: bytes) -> None:
        """Track the message count from untagged answers seen while idling."""
        found = re.match(rb"\* (\d+) (EXISTS|EXPUNGE)\b", line, re.IGNORECASE)
        if found and found.group(2).upper() == b"EXISTS":
            count = int(found.group(1))
            if count > self._exists:
                self._new_mail = True
            self._exists = count
        elif found:
            self._exists = max(self._exists - 1, 0)
        elif re.match(rb"\* BYE\b", line, re.IGNORECASE):
            raise ImapUnavailable(self._say(f"the server hung up: {line_text(line)}"))

    # -- plumbing ------------------------------------------------------------------------

    def _require(self) -> imaplib.IMAP4:
        if self._conn is None:
            raise RuntimeError("ImapMailbox is not open; use it as a context manager")
        return self._conn

    def _say(self, text: str) -> str:
        message = f"IMAP {self.username}@{self.host}:{self.port}: {text}"
        if self._password:
            message = message.replace(self._password, "***")
        return message

    def _translate(self, exc: BaseException, action: str) -> ImapError:
        if isinstance(exc, ImapError):
            return exc
        if isinstance(exc, imaplib.IMAP4.readonly):
            return ImapProtocolError(self._say(f"folder became read-only during {action}"))
        if isinstance(exc, imaplib.IMAP4.abort | OSError | EOFError):
            return ImapUnavailable(self._say(f"connection lost during {action}: {error_text(exc)}"))
        return ImapProtocolError(self._say(f"{action} failed: {error_text(exc)}"))

    def _call(self, action: str, command: _Command) -> tuple[str, Data]:
        conn = self._require()
        try:
            typ, data = command(conn)
        except (OSError, EOFError, imaplib.IMAP4.error) as exc:
            raise self._translate(exc, action) from exc
        self._drain()
        return typ, data

    def _ok(self, action: str, command: _Command) -> Data:
        typ, data = self._call(action, command)
        if typ != "OK":
            raise ImapProtocolError(self._say(f"{action} answered {typ}: {joined_text(data)}"))
        return data

    def _uid_raw(self, command: str, *args: str) -> tuple[str, Data]:
        return self._call(f"UID {command}", lambda conn: conn.uid(command, *args))

    def _uid(self, command: str, *args: str) -> Data:
        typ, data = self._uid_raw(command, *args)
        if typ != "OK":
            raise ImapProtocolError(self._say(f"UID {command} answered {typ}: {joined_text(data)}"))
        return data

    def _fetch_one(self, uid: int, items: str) -> Fetched:
        check_uid(uid)
        # Other clients' flag changes can arrive as unsolicited FETCH answers: pick ours.
        for message in parse_fetch(self._uid("FETCH", str(uid), items)):
            if message.uid == uid:
                return message
        raise ImapMessageMissing(self._say(f"UID {uid} is not in {self.folder!r}"))

    def _drain(self) -> None:
        """Fold untagged EXISTS/EXPUNGE into the message count and drop what we never read,
        so a long session does not hoard responses."""
        conn = self._conn
        if conn is None:
            return
        responses = conn.untagged_responses
        expunged = responses.pop("EXPUNGE", [])
        self._exists = max(self._exists - len(expunged), 0)
        for count in responses.pop("EXISTS", []):
            if isinstance(count, bytes) and count.isdigit():
                if int(count) > self._exists:
                    self._new_mail = True
                self._exists = int(count)
        for name in ("RECENT", "FETCH", "OK", "COPYUID", "FLAGS", "PERMANENTFLAGS", "UNSEEN"):
            responses.pop(name, None)


__all__ = [
    "IDLE_MAX_SECONDS",
    "PROCESSED_KEYWORD",
    "ImapAuthError",
    "ImapError",
    "ImapMailbox",
    "ImapMessageMissing",
    "ImapProtocolError",
    "ImapShortRead",
    "ImapUnavailable",
]
