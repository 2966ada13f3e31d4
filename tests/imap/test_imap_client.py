"""tempodesk.mail.imap (and imap_wire) against a real (private) Dovecot: what the mailbox
poller relies on."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tempodesk.app.devserver import free_port
from tempodesk.mail.imap import (
    PROCESSED_KEYWORD,
    ImapAuthError,
    ImapMailbox,
    ImapMessageMissing,
    ImapProtocolError,
    ImapShortRead,
    ImapUnavailable,
)
from tempodesk.mail.imap_wire import encode_mailbox_name
from tests.dovecot import DovecotServer
from tests.imap.conftest import Account

Build = Callable[..., ImapMailbox]


def server_flags(dovecot: DovecotServer, account: Account, uid: int) -> tuple[str, ...]:
    """The message's flags as the server keeps them, read in a session of its own."""
    return next(found for u, found, _ in dovecot.messages(account.name) if u == uid)


def message(n: int, body: str = "") -> bytes:
    """A customer e-mail with the details byte-exactness can trip over: 8-bit UTF-8, a
    trailing space, a folded header, a tab-indented line."""
    return (
        f"From: Kundin {n} <customer{n}@example.com>\r\n"
        "To: support@desk.test\r\n"
        f"Subject: Drucker {n} brennt\r\n"
        " (folded)\r\n"
        f"Message-ID: <msg-{n}-{time.monotonic_ns()}@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Grüße aus Köln, mit Leerzeichen am Ende \r\n\teingerückt\r\n{body}"
    ).encode()


# -- finding and reading new mail -------------------------------------------------------


def test_new_mail_is_listed_after_the_last_seen_uid_and_fetched_byte_exact(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    raws = [message(n) for n in range(1, 4)]
    uids = [dovecot.append(account.name, raw) for raw in raws]
    with mailbox() as box:
        assert box.uids_after(0) == uids
        assert box.uids_after(uids[0]) == uids[1:]
        assert [box.fetch(uid) for uid in uids] == raws
        assert box.size(uids[1]) == len(raws[1])
        assert box.uidnext == uids[-1] + 1
    later = dovecot.append(account.name, message(4))
    with mailbox() as box:  # a new session: UIDs and UIDVALIDITY hold across reconnects
        assert box.uids_after(uids[-1]) == [later]


def test_uids_after_the_newest_uid_returns_nothing(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    """`UID SEARCH UID n:*` answers the highest UID even when it is below n."""
    with mailbox() as box:
        assert box.uids_after(0) == []  # an empty folder
    newest = [dovecot.append(account.name, message(n)) for n in range(2)][-1]
    with mailbox() as box:
        assert box.uids_after(newest) == []
        assert box.uids_after(newest + 1000) == []
        assert box.uids_after(2**32 - 1) == []


def test_uids_after_gives_the_oldest_first_up_to_the_limit(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    uids = [dovecot.append(account.name, message(n)) for n in range(5)]
    with mailbox() as box:
        assert box.uids_after(0, limit=2) == uids[:2]
        assert box.uids_after(uids[1], limit=2) == uids[2:4]


def test_fetching_never_sets_seen(dovecot: DovecotServer, account: Account, mailbox: Build) -> None:
    """A person reading the mailbox is not disturbed: what was unread stays unread."""
    uid = dovecot.append(account.name, message(1))
    with mailbox() as box:
        box.size(uid)
        box.fetch(uid)
    [(_, flags, _)] = dovecot.messages(account.name)
    assert "\\Seen" not in flags


def test_mail_someone_already_read_is_still_fetched(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    """We never rely on "unread": a colleague opening the mail first must not hide it."""
    raw = message(1)
    uid = dovecot.append(account.name, raw)
    dovecot.set_flags(account.name, uid, ["\\Seen"])
    with mailbox() as box:
        assert box.uids_after(0) == [uid]
        assert box.fetch(uid) == raw
        assert PROCESSED_KEYWORD not in server_flags(dovecot, account, uid)


def test_a_five_megabyte_message_round_trips_byte_exact(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    blob = base64.encodebytes(os.urandom(3_800_000)).replace(b"\n", b"\r\n")
    raw = (
        b"Subject: scan\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + blob
        + b"--b--\r\n"
    )
    assert len(raw) > 5_000_000
    uid = dovecot.append(account.name, raw)
    with mailbox(security="tls", port=dovecot.tls_port, verify=False) as box:
        assert box.size(uid) == len(raw)
        assert box.fetch(uid) == raw


def test_a_uid_that_is_gone_raises_message_missing(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    uid = dovecot.append(account.name, message(1))
    with mailbox() as box:
        for read in (box.size, box.fetch):
            with pytest.raises(ImapMessageMissing):
                read(uid + 1)


@contextlib.contextmanager
def scripted_server(
    fetch_answer: bytes = b"", capabilities: bytes = b"IMAP4rev1 AUTH=PLAIN MOVE"
) -> Iterator[int]:
    """A one-connection fake IMAP server that answers UID FETCH with `fetch_answer`, for
    answers Dovecot never gives (items in another order, a short body, no AUTH=PLAIN).
    Its LOGIN takes only the password `s3cret "quoted"` (imaplib must quote it right)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def serve() -> None:
            conn, _ = listener.accept()
            with conn, conn.makefile("rb") as lines:
                conn.sendall(b"* OK fake ready\r\n")
                for line in lines:
                    tag, command = line.split()[:2]
                    command = command.upper()
                    if command == b"CAPABILITY":
                        conn.sendall(b"* CAPABILITY " + capabilities + b"\r\n")
                    elif command == b"LOGIN":
                        if not line.endswith(b' "s3cret \\"quoted\\""\r\n'):
                            conn.sendall(tag + b" NO [AUTHENTICATIONFAILED] nope\r\n")
                            continue
                    elif command == b"AUTHENTICATE":
                        conn.sendall(b"+ \r\n")
                        lines.readline()
                    elif command == b"SELECT":
                        conn.sendall(b"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n")
                    elif command == b"UID":
                        conn.sendall(fetch_answer)
                    elif command == b"LOGOUT":
                        conn.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                        return
                    conn.sendall(tag + b" OK done\r\n")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        yield listener.getsockname()[1]
        thread.join(5)


def test_fetch_finds_its_message_among_other_answers_in_any_item_order(mailbox: Build) -> None:
    body = b"Subject: x\r\n\r\nhello\r\n"
    answer = (
        b"* 1 FETCH (FLAGS (\\Seen))\r\n"  # another client's change, unsolicited
        b"* 2 FETCH (BODY[] {%d}\r\n%s UID 9 RFC822.SIZE %d)\r\n" % (len(body), body, len(body))
    )
    with scripted_server(answer) as port, mailbox(port=port) as box:
        assert box.fetch(9) == body


def test_a_body_shorter_than_its_rfc822_size_raises_short_read(mailbox: Build) -> None:
    body = b"Subject: x\r\n\r\ntruncated"
    answer = b"* 2 FETCH (UID 9 RFC822.SIZE 5000 BODY[] {%d}\r\n%s)\r\n" % (len(body), body)
    with (
        scripted_server(answer) as port,
        mailbox(port=port) as box,
        pytest.raises(ImapShortRead) as caught,
    ):
        box.fetch(9)
    assert (caught.value.uid, caught.value.received, caught.value.announced) == (9, len(body), 5000)


def test_login_is_used_when_the_server_offers_no_auth_plain(mailbox: Build) -> None:
    with (
        scripted_server(capabilities=b"IMAP4rev1") as port,
        mailbox(port=port, password='s3cret "quoted"') as box,
    ):
        assert box.uidvalidity == 7
    with (
        scripted_server(capabilities=b"IMAP4rev1") as port,
        pytest.raises(ImapAuthError) as caught,
        mailbox(port=port, password="Wrong-Password-99"),
    ):
        pass
    assert "Wrong-Password-99" not in str(caught.value)


# -- acknowledging ----------------------------------------------------------------------


def test_mark_processed_sets_the_keyword_and_moves_to_a_new_folder(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    raw = message(1)
    uid = dovecot.append(account.name, raw)
    other = dovecot.append(account.name, message(2))
    with mailbox() as box:
        box.fetch(uid)
        box.mark_processed(uid, move_to="Tempodesk/Processed")
        assert box.uids_after(0) == [other]
    [(_, flags, moved)] = dovecot.messages(account.name, "Tempodesk/Processed")
    assert moved == raw
    assert PROCESSED_KEYWORD in flags
    assert "\\Seen" not in flags  # processing is not reading
    assert [u for u, _, _ in dovecot.messages(account.name)] == [other]


def test_mark_processed_without_a_folder_flags_the_message_in_place(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    uid = dovecot.append(account.name, message(1))
    with mailbox() as box:
        assert PROCESSED_KEYWORD not in server_flags(dovecot, account, uid)
        box.mark_processed(uid)
        assert PROCESSED_KEYWORD in server_flags(dovecot, account, uid)
        box.mark_processed(uid)  # repeating is harmless
    [(_, flags, _)] = dovecot.messages(account.name)
    assert set(flags) == {PROCESSED_KEYWORD}


def test_mark_processed_again_after_the_move_is_harmless(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    """A poller that crashed after the move but before saving last_uid repeats the call."""
    uid = dovecot.append(account.name, message(1))
    with mailbox() as box:
        box.mark_processed(uid, move_to="Done")
    with mailbox() as box:
        box.mark_processed(uid, move_to="Done")
    assert len(dovecot.messages(account.name, "Done")) == 1
    assert dovecot.messages(account.name) == []


def test_mark_processed_moves_into_a_folder_with_a_non_ascii_name(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    assert encode_mailbox_name("Erledigt ✓ & fertig") == "Erledigt &JxM- &- fertig"
    uid = dovecot.append(account.name, message(1))
    with mailbox() as box:
        box.mark_processed(uid, move_to="Erledigt ✓ & fertig")
    assert len(dovecot.messages(account.name, "Erledigt &JxM- &- fertig")) == 1


def test_mark_processed_refuses_to_move_into_the_folder_it_reads(mailbox: Build) -> None:
    with mailbox() as box, pytest.raises(ValueError):
        box.mark_processed(1, move_to="INBOX")


@pytest.fixture(scope="module")
def legacy_dovecot() -> Iterator[DovecotServer]:
    """A server without MOVE, as older Exchange and Courier setups are: the client must fall
    back to COPY + \\Deleted + UID EXPUNGE."""
    server = DovecotServer(
        extra_config=(
            "imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
            "UIDPLUS CHILDREN NAMESPACE UNSELECT\n"
        )
    )
    server.add_user("old", "old-password")
    server.start()
    yield server
    problems = server.problems()
    server.stop()
    assert not problems, "Dovecot logged problems:\n" + "\n".join(problems)


def test_without_move_the_message_is_copied_and_only_its_uid_expunged(
    legacy_dovecot: DovecotServer,
) -> None:
    server = legacy_dovecot
    ours = server.append("old", message(1))
    theirs = server.append("old", message(2), flags=["\\Deleted"])  # another client's business
    with ImapMailbox(server.host, server.port, "none", "old", "old-password") as box:
        assert "MOVE" not in box.capabilities
        box.mark_processed(ours, move_to="Processed")
    assert [uid for uid, _, _ in server.messages("old")] == [theirs]
    [(_, flags, _)] = server.messages("old", "Processed")
    assert PROCESSED_KEYWORD in flags


# -- UIDVALIDITY (R19) ------------------------------------------------------------------


def test_uidvalidity_changes_when_the_folder_is_recreated(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    raws = [message(n) for n in range(3)]
    for raw in raws:
        dovecot.append(account.name, raw)
    with mailbox() as box:
        before = box.uidvalidity
        last = box.uids_after(0)[-1]
    assert dovecot.uidvalidity(account.name) == before
    dovecot.recreate_folder(account.name)
    with mailbox() as box:
        assert box.uidvalidity != before
        # The same messages under new UIDs: a poller that kept only last_uid would skip them.
        assert box.uids_after(last) == []
        assert sorted(box.fetch(uid) for uid in box.uids_after(0)) == sorted(raws)


# -- failures ---------------------------------------------------------------------------


def test_a_wrong_password_raises_auth_error_without_the_password(
    account: Account, mailbox: Build
) -> None:
    wrong = "Sesame-Wrong-42"
    with pytest.raises(ImapAuthError) as caught, mailbox(password=wrong):
        pass
    assert wrong not in str(caught.value)
    assert account.password not in str(caught.value)
    assert account.name in str(caught.value)  # says which mailbox, for the admin


def test_a_rotated_password_raises_auth_error(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    dovecot.add_user(account.name, "rotated-" + account.password)
    with pytest.raises(ImapAuthError), mailbox():
        pass
    with mailbox(password="rotated-" + account.password) as box:
        assert box.uids_after(0) == []


def test_nothing_listening_raises_unavailable(mailbox: Build) -> None:
    with pytest.raises(ImapUnavailable, match="cannot connect"), mailbox(port=free_port()):
        pass


def test_a_server_that_never_greets_raises_unavailable_after_the_timeout(
    mailbox: Build,
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts; nobody ever speaks
        started = time.monotonic()
        with (
            pytest.raises(ImapUnavailable),
            mailbox(port=silent.getsockname()[1], timeout=0.5),
        ):
            pass
    assert time.monotonic() - started < 5


def test_a_server_going_away_mid_session_raises_unavailable() -> None:
    with DovecotServer() as server:
        server.add_user("u", "p")
        uid = server.append("u", message(1))
        box = ImapMailbox(server.host, server.port, "none", "u", "p", timeout=5)
        box.open()
        server.stop()
        with pytest.raises(ImapUnavailable):
            box.fetch(uid)
        box.close()


def test_a_missing_folder_raises_protocol_error(mailbox: Build) -> None:
    with pytest.raises(ImapProtocolError, match="Nirgendwo"), mailbox(folder="Nirgendwo"):
        pass


# -- TLS --------------------------------------------------------------------------------


def test_tls_works_without_verification_and_refuses_a_self_signed_certificate(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    raw = message(1)
    uid = dovecot.append(account.name, raw)
    with mailbox(security="tls", port=dovecot.tls_port, verify=False) as box:
        assert box.fetch(uid) == raw
    with (
        pytest.raises(ImapUnavailable, match="certificate"),
        mailbox(security="tls", port=dovecot.tls_port),
    ):
        pass
    # Trusting the certificate explicitly (a private CA) verifies hostname and chain.
    with mailbox(
        security="tls", port=dovecot.tls_port, host="localhost", cafile=str(dovecot.cert_path)
    ) as box:
        assert box.uids_after(0) == [uid]


def test_starttls_upgrades_the_plain_port(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    raw = message(1)
    uid = dovecot.append(account.name, raw)
    with mailbox(security="starttls", verify=False) as box:
        assert box.fetch(uid) == raw
    with pytest.raises(ImapUnavailable, match="certificate"), mailbox(security="starttls"):
        pass


def test_starttls_is_refused_when_the_server_does_not_offer_it(mailbox: Build) -> None:
    """Credentials must never fall back to clear text. A tiny fake server that greets
    without STARTTLS stands in for a misconfigured one."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def greet() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"* OK no tls here\r\n")
                tag = conn.recv(1024).split()[0]  # imaplib asks for CAPABILITY first
                conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                conn.recv(1024)

        threading.Thread(target=greet, daemon=True).start()
        with (
            pytest.raises(ImapUnavailable, match="STARTTLS"),
            mailbox(security="starttls", port=listener.getsockname()[1]),
        ):
            pass


# -- IDLE -------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["none", "tls"])
def test_idle_wakes_up_for_new_mail_and_times_out_without(
    dovecot: DovecotServer, account: Account, mailbox: Build, security: str
) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    with mailbox(security=security, port=port, verify=False) as box:
        started = time.monotonic()
        assert box.idle(0.3) is False
        assert 0.25 < time.monotonic() - started < 2

        timer = threading.Timer(0.3, dovecot.append, (account.name, message(1)))
        timer.start()
        started = time.monotonic()
        try:
            assert box.idle(10) is True
        finally:
            timer.join()
        assert time.monotonic() - started < 5
        # The connection is still in step after IDLE.
        [uid] = box.uids_after(0)
        assert box.fetch(uid).startswith(b"From: Kundin 1")


def test_idle_reports_mail_announced_before_it_started(
    dovecot: DovecotServer, account: Account, mailbox: Build
) -> None:
    with mailbox() as box:
        box.uids_after(0)
        dovecot.append(account.name, message(1))
        box.uids_after(0)  # the server mentions the new EXISTS in passing
        started = time.monotonic()
        assert box.idle(10) is True
        assert time.monotonic() - started < 1
