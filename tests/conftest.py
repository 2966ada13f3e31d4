"""Session fixtures: a real Temporal dev server, real PostgreSQL and SQLite, a real SMTP server.

One Temporal server serves the whole run; each database gets its own namespace (so their
ticket numbers never meet) and its own worker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tempodesk.app.devserver import TemporalDevServer, free_port
from tempodesk.core.settings import Settings
from tempodesk.mail.sink import MailSink
from tests.dovecot import DovecotServer
from tests.helpers import Stack, build_stack, close_stack

PG_ADMIN = os.environ.get(
    "TEMPODESK_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which asyncio tests cannot share."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))


NAMESPACES = ("default", "sqlite", "workflows", "reliability", "faults")


@pytest.fixture(scope="session")
def temporal() -> Iterator[TemporalDevServer]:
    server = TemporalDevServer(port=free_port(), namespaces=NAMESPACES)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A private Dovecot IMAP server for the whole run (see tests/dovecot.py)."""
    server = DovecotServer()
    server.start()
    yield server
    problems = server.problems()
    server.stop()
    assert not problems, "Dovecot logged problems:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this run, dropped at the end."""
    name = f"tempodesk_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(
    tmp: Path, database_url: str, temporal: TemporalDevServer, **extra: object
) -> Settings:
    values: dict[str, object] = {
        "var_dir": tmp,
        "database_url": database_url,
        "temporal_address": temporal.address,
        "temporal_namespace": "default",
        "smtp_port": free_port(),
        "secret_key": "test-secret",
        "base_url": "http://desk.test",
        "smtp_timeout_seconds": 5.0,
        # The suite signs in hundreds of times from 127.0.0.1; tests/web/test_auth.py checks
        # the limits themselves with tight ones.
        "login_rate_limit": "100000/minute",
        "login_failure_limit": "100000/minute",
        "public_form_rate_limit": "100000/minute",
        "portal_login_rate_limit": "100000/minute",
        "portal_address_rate_limit": "100000/minute",
        "public_form_address_rate_limit": "100000/minute",
        "public_form_min_seconds": 0.0,
        "allow_private_mail_hosts": True,  # Dovecot and the SMTP sink listen on 127.0.0.1
        "allow_private_sms_hosts": True,  # so does the SMS stand-in
        "sms_timeout_seconds": 2.0,
        # Webhook receivers of tests/web/test_webhooks.py listen on 127.0.0.1 (not localhost,
        # which the SSRF guard's test expects refused); their retries come quickly.
        "webhook_allowed_hosts": "127.0.0.1",
        "webhook_attempts": 3,
        "webhook_retry_seconds": 0.1,
        "webhook_max_retry_seconds": 0.5,
        "webhook_disable_after": 3,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, pg_url: str, temporal: TemporalDevServer
) -> Iterator[Stack]:
    """The production-like stack: PostgreSQL."""
    settings = make_settings(tmp_path_factory.mktemp("pg"), pg_url, temporal)
    built = build_stack(settings)
    yield built
    close_stack(built)


@pytest.fixture(scope="session")
def sqlite_stack(
    tmp_path_factory: pytest.TempPathFactory, temporal: TemporalDevServer
) -> Iterator[Stack]:
    """The embedded default: SQLite, as `make dev` runs it."""
    tmp = tmp_path_factory.mktemp("sqlite")
    settings = make_settings(
        tmp,
        f"sqlite:///{tmp / 'tempodesk.db'}",
        temporal,
        temporal_namespace="sqlite",
        ticket_number_template="SQ-{year}-{seq:05d}",
    )
    built = build_stack(settings)
    yield built
    close_stack(built)


@pytest.fixture(params=["postgresql", "sqlite"])
def any_stack(request: pytest.FixtureRequest) -> Stack:
    """Both databases, for the behaviours that must hold on each."""
    name = "stack" if request.param == "postgresql" else "sqlite_stack"
    built: Stack = request.getfixturevalue(name)
    return built


@pytest.fixture
def sink(stack: Stack):  # type: ignore[no-untyped-def]
    _calm(stack.sink)
    yield stack.sink
    _calm(stack.sink)  # a misbehaving server must not outlive its test


def _calm(sink: MailSink) -> None:
    sink.caught.clear()
    sink.reject.clear()
    sink.unavailable = False
    sink.delay = 0.0
    sink.refuse_login = False
    sink.refuse_connections = False
    sink.smtputf8 = True
