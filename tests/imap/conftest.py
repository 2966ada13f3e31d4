"""A private Dovecot for the IMAP tests (tests/dovecot.py), one per test session.

Every test gets a mailbox account of its own, so tests never see each other's mail and the
order they run in does not matter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tempodesk.mail.imap import ImapMailbox
from tests.dovecot import DovecotServer

_accounts = itertools.count(1)


@dataclass(frozen=True)
class Account:
    name: str
    password: str


@pytest.fixture
def account(dovecot: DovecotServer) -> Account:
    """A fresh user with an empty INBOX."""
    number = next(_accounts)
    created = Account(f"agent{number}", f"Pw-{number}-correct horse")
    dovecot.add_user(created.name, created.password)
    return created


@pytest.fixture
def mailbox(dovecot: DovecotServer, account: Account) -> Callable[..., ImapMailbox]:
    """Build an ImapMailbox for `account` on the plain port; keyword arguments override."""

    def build(**overrides: object) -> ImapMailbox:
        options: dict[str, object] = {
            "host": dovecot.host,
            "port": dovecot.port,
            "security": "none",
            "username": account.name,
            "password": account.password,
            "timeout": 10.0,
        }
        options.update(overrides)
        return ImapMailbox(**options)  # type: ignore[arg-type]

    return build
