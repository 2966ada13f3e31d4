"""A private Dovecot IMAP server for tests (Debian's dovecot 2.3, see scripts/ensure-dovecot).

Why a real server: the IMAP poller's promises (PEEK never sets \\Seen, UIDs survive reconnects,
UIDVALIDITY changes, MOVE, TLS) are properties of a real server talking to our client, and a
fake would only repeat our own assumptions back to us.

Each instance runs from a config written into its own folder: loopback only, free ports, its
own base_dir/state_dir/log, passwd-files of `{PLAIN}` test passwords and maildirs under the
folder. It never touches /etc/dovecot or a system service.

Dovecot refuses root for its login process and for mail access, so when the tests run as root
(as CI does) the mail users and the login/internal processes are `nobody`/`nogroup`; that is
also why the folder comes from `tempfile.mkdtemp()` with mode 0711 rather than from pytest's
0700 tmp_path, and why mail goes in only through IMAP APPEND (files written by root would turn
the mailbox read-only). As a normal user everything runs as that user, with chroot switched
off for the services that would need root for it.

Timing on the dev box (2 cores): start to the `* OK` greeting ≈ 0.04 s, the self-signed
certificate included; stop ≈ 1.1 s, because Dovecot's master sleeps a fixed second after
telling its children to close their listeners.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from tempodesk.app.devserver import free_port

DOVECOT = os.environ.get("TEMPODESK_DOVECOT", "/usr/sbin/dovecot")
HOST = "127.0.0.1"
# If the test process dies without stop() (SIGKILL, a CI timeout), the kernel sends Dovecot
# SIGTERM rather than leaving it running (util-linux's setpriv; it execs, so the pid stays
# Dovecot's). Not a preexec_fn: forking Python code in a threaded test run can deadlock.
_SETPRIV = shutil.which("setpriv")
_DIE_WITH_US = [_SETPRIV, "--pdeathsig", "TERM", "--"] if _SETPRIV else []

Message = tuple[int, tuple[str, ...], bytes]
"""(uid, flags without the session-only \\Recent, raw bytes) as the server stores them."""


class DovecotFailed(RuntimeError):
    """The private Dovecot did not start, or a helper command was refused."""


def _quote(name: str) -> str:
    """An IMAP quoted string (the test folders are ASCII, so no modified UTF-7 here)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(result: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = result
    if typ != "OK":
        raise DovecotFailed(f"{what}: {typ} {data!r}")
    return data


class DovecotServer:
    """One private Dovecot process and the folder it lives in (removed again by stop())."""

    def __init__(self, *, extra_config: str = "", binary: str = DOVECOT) -> None:
        """`extra_config` is appended verbatim, e.g. an `imap_capability` without MOVE to
        exercise a client's fallback path."""
        self.binary = binary
        self.extra_config = extra_config
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._tls_port = 0
        self._users: dict[str, str] = {}
        if os.geteuid() == 0:
            self._uid = pwd.getpwnam("nobody").pw_uid
            self._gid = _nobody_group()
        else:
            self._uid, self._gid = os.getuid(), os.getgid()

    # -- life cycle ----------------------------------------------------------------------

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        """Plain IMAP (STARTTLS is offered here)."""
        return self._port

    @property
    def tls_port(self) -> int:
        """IMAP over TLS from the first byte (imaps), with the self-signed certificate."""
        return self._tls_port

    @property
    def cert_path(self) -> Path:
        """The self-signed certificate (CN and SAN localhost/127.0.0.1), for a test that
        wants to verify against it as its own CA."""
        assert self.folder is not None, "start() first"
        return self.folder / "cert.pem"

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> None:
        """Write the config, start Dovecot in the foreground and wait for its `* OK` greeting.

        A port taken between choosing it and Dovecot binding it is retried with new ports;
        any other failure raises with Dovecot's stderr (config errors go there, not to the
        log file)."""
        if not os.path.exists(self.binary):
            raise DovecotFailed(f"{self.binary} is missing; run scripts/ensure-dovecot")
        try:
            self._make_folder()
            for _attempt in range(3):
                self._port, self._tls_port = _two_free_ports()
                self._write_config()
                if self._launch(timeout):
                    return
            raise DovecotFailed(f"Dovecot found no free ports:\n{self._stderr()}")
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait, SIGKILL if it hangs; then remove the folder."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def _make_folder(self) -> None:
        # Unix socket paths (base_dir/...) must stay under 108 bytes; a long $TMPDIR would
        # break them, so fall back to /tmp.
        parent = tempfile.gettempdir()
        if len(parent) > 40:
            parent = "/tmp"
        self.folder = Path(tempfile.mkdtemp(prefix="tempodesk-dovecot-", dir=parent))
        self.folder.chmod(0o711)  # the nobody-run processes must reach their files inside
        mail = self.folder / "mail"
        mail.mkdir(mode=0o700)
        os.chown(mail, self._uid, self._gid)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                str(self.folder / "key.pem"),
                "-out",
                str(self.folder / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )
        for name in self._users:
            self._write_passwd(name)

    def _write_config(self) -> None:
        assert self.folder is not None
        folder = self.folder
        if os.geteuid() == 0:
            user = pwd.getpwuid(self._uid).pw_name
            group = grp.getgrgid(self._gid).gr_name
            unprivileged = ""
        else:
            user = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            # auth-worker would run as root to read /etc/shadow, which we neither can nor need.
            unprivileged = "service auth-worker {\n  user = $default_internal_user\n}\n"
        config = f"""\
# Written by tests/dovecot.py: a private, loopback-only Dovecot for one test run.
instance_name = tempodesk-{folder.name}
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
listen = {HOST}
protocols = imap
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
# Test passwords in the clear over loopback; production talks TLS to a real server.
disable_plaintext_auth = no
auth_mechanisms = plain login
# Wrong-password tests should not wait Dovecot's default 2 s (0.5 s remain: its timer tick).
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {self._uid}
last_valid_uid = {self._uid}
first_valid_gid = {self._gid}
mail_location = maildir:~/Maildir
# Durability is not under test here, speed is: 1,000 APPENDs should not fsync each.
mail_fsync = never
mail_plugins =
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {folder}/users/%u
}}
# Wrong-password tests must not wait out anvil's growing per-IP penalty (2 s, 4 s, ... 15 s
# from loopback): the auth process cannot reach a mode-0 socket, so it skips penalties.
# chroot needs root, and a private instance gains nothing from it: off for all three.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service ipc {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self._port}
  }}
  inet_listener imaps {{
    port = {self._tls_port}
    ssl = yes
  }}
}}
{unprivileged}{self.extra_config}
"""
        (folder / "dovecot.conf").write_text(config)

    def _launch(self, timeout: float) -> bool:
        """Start the master; True once greeted, False when a port was taken meanwhile."""
        assert self.folder is not None
        stderr = self.folder / "stderr.txt"
        with open(stderr, "wb") as err:
            self.process = subprocess.Popen(
                [*_DIE_WITH_US, self.binary, "-F", "-c", str(self.folder / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = self._stderr() + self._log_tail()
                self.process = None
                if "Address already in use" in text:
                    return False
                raise DovecotFailed(f"Dovecot exited at start:\n{text}")
            if _greeted(self._port):
                return True
            time.sleep(0.01)
        raise DovecotFailed(
            f"Dovecot sent no '* OK' greeting within {timeout} s:\n"
            f"{self._stderr()}{self._log_tail()}"
        )

    def _stderr(self) -> str:
        assert self.folder is not None
        path = self.folder / "stderr.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def _log_tail(self, lines: int = 20) -> str:
        if self.folder is None or not (self.folder / "dovecot.log").exists():
            return ""
        text = (self.folder / "dovecot.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def log(self) -> str:
        """Dovecot's own log, for a failing test's message."""
        return self._log_tail(lines=200)

    def problems(self) -> list[str]:
        """Error, Fatal and Panic lines from Dovecot's log: a root-owned maildir file or a
        permission slip shows up here long before a test fails for it."""
        if self.folder is None or not (self.folder / "dovecot.log").exists():
            return []
        text = (self.folder / "dovecot.log").read_text(errors="replace")
        return [line for line in text.splitlines() if re.search(r": (Error|Fatal|Panic):", line)]

    # -- users and mail ------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Create a user or change its password (R19's rotation); works while running.

        Each user has a passwd-file of its own, so a new user can log in at once. A changed
        password is seen from the next second on: Dovecot checks a passwd-file it has already
        read at most once per second, so this waits for that second to begin."""
        if not re.fullmatch(r"[A-Za-z0-9._@+-]+", name) or name.startswith("."):
            raise ValueError(f"test user names are plain words: {name!r}")
        if not password or any(ch in password for ch in ":\r\n\0"):
            raise ValueError("test passwords may not hold ':' or line breaks")
        changed = name in self._users
        self._users[name] = password
        if self.folder is not None:
            self._write_passwd(name)
            if changed and self.process is not None:
                time.sleep(1.0 - time.time() % 1.0 + 0.05)

    def _write_passwd(self, name: str) -> None:
        assert self.folder is not None
        users = self.folder / "users"
        users.mkdir(mode=0o755, exist_ok=True)
        line = (
            f"{name}:{{PLAIN}}{self._users[name]}:{self._uid}:{self._gid}::"
            f"{self.folder}/mail/{name}::\n"
        )
        # Replace, never rewrite in place: the auth process may be reading it right now.
        tmp = users / f".{name}.tmp"
        tmp.write_text(line)
        tmp.chmod(0o644)
        os.replace(tmp, users / name)

    @contextlib.contextmanager
    def session(self, user: str) -> Iterator[imaplib.IMAP4]:
        """A logged-in imaplib connection on the plain port, logged out afterwards."""
        conn = imaplib.IMAP4(HOST, self._port, timeout=30)
        try:
            _ok(conn.login(user, self._users[user]), "LOGIN")
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def create_folder(self, user: str, folder: str) -> None:
        with self.session(user) as conn:
            typ, data = conn.create(_quote(folder))
            if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(_bytes(data)):
                raise DovecotFailed(f"CREATE {folder}: {typ} {data!r}")

    def append(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Iterable[str] = (),
        arrived: datetime | None = None,
    ) -> int:
        """Deliver `raw` by IMAP APPEND and return its UID (from UIDPLUS' APPENDUID).
        `arrived` sets its INTERNALDATE (mail that has been in the folder for a year).

        imaplib turns bare LF into CRLF, so tests that compare bytes should use CRLF."""
        with self.session(user) as conn:
            data = _ok(conn.append(_quote(folder), " ".join(flags), arrived, raw), "APPEND")
        found = re.search(rb"\[APPENDUID \d+ (\d+)\]", b" ".join(_bytes(data)))
        if not found:
            raise DovecotFailed(f"APPEND answered without APPENDUID: {data!r}")
        return int(found.group(1))

    def append_many(self, user: str, raws: Iterable[bytes], folder: str = "INBOX") -> int:
        """APPEND many messages over one connection (for volume tests); returns the count."""
        count = 0
        with self.session(user) as conn:
            for raw in raws:
                _ok(conn.append(_quote(folder), None, None, raw), "APPEND")
                count += 1
        return count

    def messages(self, user: str, folder: str = "INBOX") -> list[Message]:
        """Everything in the folder, read with EXAMINE and BODY.PEEK so that looking changes
        nothing."""
        result: list[Message] = []
        with self.session(user) as conn:
            _ok(conn.select(_quote(folder), readonly=True), "EXAMINE")
            data = _ok(conn.uid("SEARCH", "ALL"), "UID SEARCH")
            uids = [int(u) for u in _bytes(data)[0].split()] if data and data[0] else []
            for uid in uids:
                fetched = _ok(conn.uid("FETCH", str(uid), "(FLAGS BODY.PEEK[])"), "UID FETCH")
                text = b"".join(
                    part[0] if isinstance(part, tuple) else part
                    for part in fetched
                    if isinstance(part, tuple | bytes)
                )
                raw = next(part[1] for part in fetched if isinstance(part, tuple))
                flags_match = re.search(rb"FLAGS \(([^)]*)\)", text)
                flags = flags_match.group(1).decode().split() if flags_match else []
                result.append((uid, tuple(f for f in flags if f != "\\Recent"), raw))
        return result

    def set_flags(self, user: str, uid: int, flags: Iterable[str], folder: str = "INBOX") -> None:
        """Add flags as another mail client would (e.g. a person reading the mail: \\Seen)."""
        with self.session(user) as conn:
            _ok(conn.select(_quote(folder)), "SELECT")
            _ok(conn.uid("STORE", str(uid), "+FLAGS", f"({' '.join(flags)})"), "UID STORE")

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self.session(user) as conn:
            data = _ok(conn.status(_quote(folder), "(UIDVALIDITY)"), "STATUS")
        found = re.search(rb"UIDVALIDITY (\d+)", b" ".join(_bytes(data)))
        if not found:
            raise DovecotFailed(f"STATUS without UIDVALIDITY: {data!r}")
        return int(found.group(1))

    def recreate_folder(self, user: str, folder: str = "INBOX") -> int:
        """Rebuild the folder the way a server migration or restore does (R19): the same
        messages (and flags) come back under a new UIDVALIDITY with UIDs counted afresh from 1.
        Returns the new UIDVALIDITY.

        IMAP cannot DELETE INBOX, so rather than DELETE + CREATE this drops Dovecot's UID list
        and index for the folder; Dovecot rescans the maildir and takes the next UIDVALIDITY
        from its per-user counter, which never repeats. Call it with no session open on the
        folder (an open session keeps the old index mapped)."""
        assert self.folder is not None
        before = self.uidvalidity(user, folder)
        maildir = self.folder / "mail" / user / "Maildir"
        if folder.upper() != "INBOX":
            maildir = maildir / ("." + folder.replace("/", "."))
        if not maildir.is_dir():
            raise DovecotFailed(f"{user} has no folder {folder}")
        for path in [maildir / "dovecot-uidlist", *maildir.glob("dovecot.index*")]:
            path.unlink(missing_ok=True)
        after = self.uidvalidity(user, folder)
        if after == before:
            raise DovecotFailed(f"UIDVALIDITY of {folder} stayed {before}")
        return after


def _bytes(data: Iterable[object]) -> list[bytes]:
    return [item for item in data if isinstance(item, bytes)]


def _nobody_group() -> int:
    """Debian calls nobody's group `nogroup`; elsewhere it is `nobody`."""
    for name in ("nogroup", "nobody"):
        with contextlib.suppress(KeyError):
            return grp.getgrnam(name).gr_gid
    return pwd.getpwnam("nobody").pw_gid


def _two_free_ports() -> tuple[int, int]:
    first = free_port(HOST)
    second = free_port(HOST)
    while second == first:
        second = free_port(HOST)
    return first, second


def _greeted(port: int) -> bool:
    """Readiness is the server's `* OK` greeting: the port can accept connections before the
    login process is ready to answer."""
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            return sock.makefile("rb").readline().startswith(b"* OK")
    except OSError:
        return False
