"""A changed UIDVALIDITY never imports the mailbox's past (issue 10, item 3; RELIABILITY R19).

On first contact a mailbox's old mail is left alone and not stored, so no dedupe key can
catch it later. When the server renumbers the folder (a restore, a migration), the poller
therefore re-scans only what arrived since first contact and skips what carries our
processed keyword. Real parts: a private Dovecot, PostgreSQL, the poll activity, the SMTP
sink for acknowledgements.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.dovecot import DovecotServer
from tests.helpers import Stack
from tests.reliability.test_imap_intake import (
    PROCESSED,
    Box,
    flags,
    inbound_rows,
    poll,
    save_mailbox,
)
from tests.web.test_inbound_email import mail, mails_to, someone


@pytest.fixture
def full_box(stack: Stack, dovecot: DovecotServer) -> Iterator[tuple[Box, list[str]]]:
    """A mailbox holding a year of old mail before Tempodesk first connects (old mail not
    to be imported); yields it with the old mail's senders."""
    tag = uuid.uuid4().hex[:8]
    box = Box(f"renumbered-{tag}", f"renum{tag}", f"help-{tag}@tempodesk.localhost")
    dovecot.add_user(box.user, "secret-pass")
    senders = [someone() for _ in range(3)]
    for age, sender in zip((365, 30, 2), senders, strict=True):
        arrived = datetime.now(UTC) - timedelta(days=age)
        dovecot.append(box.user, mail(sender, subject=f"old, {age} days"), arrived=arrived)
    save_mailbox(stack, dovecot, box, "secret-pass", import_existing=False)
    yield box, senders
    save_mailbox(stack, dovecot, box, "secret-pass", enabled=False)


def test_a_changed_uidvalidity_imports_only_mail_since_first_contact(
    stack: Stack, dovecot: DovecotServer, full_box: tuple[Box, list[str]], sink: Any
) -> None:
    box, old_senders = full_box
    assert poll(stack, box.name).fetched == 0  # first contact: the old mail is left alone
    handled = someone()
    dovecot.append(box.user, mail(handled, subject="new, handled"))
    assert poll(stack, box.name).fetched == 1
    waiting = someone()
    dovecot.append(box.user, mail(waiting, subject="new, not polled yet"))

    dovecot.recreate_folder(box.user)  # a restore: everything again, numbered from 1
    result = poll(stack, box.name)

    assert result.error == ""
    assert result.fetched == 1  # the old mail and the flagged one are not even read
    rows = inbound_rows(stack, box.name)
    assert [r.subject for r in rows] == ["new, handled", "new, not polled yet"]
    assert [r.status for r in rows] == ["ticket", "ticket"] and rows[0].attempts == 1
    assert mails_to(sink, waiting, 1)  # its acknowledgement went out ...
    time.sleep(0.5)
    for sender in old_senders:  # ... and none to the senders of the old mail
        assert [m for m in sink.caught if sender in m.recipients] == []
    assert [PROCESSED in f for f in flags(dovecot, box.user)] == [False] * 3 + [True, True]

    assert poll(stack, box.name).fetched == 0  # the re-scan is over
    dovecot.append(box.user, mail(someone(), subject="after the restore"))
    assert poll(stack, box.name).fetched == 1
    assert inbound_rows(stack, box.name)[-1].subject == "after the restore"
