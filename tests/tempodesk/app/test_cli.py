"""The `tempodesk` command line, run with click's runner against a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tempodesk.app.cli import main
from tempodesk.core.db import make_engine, make_session_factory
from tempodesk.people import accounts


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TEMPODESK_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TEMPODESK_DATABASE_URL", raising=False)
    return CliRunner()


def test_every_command_has_a_one_line_help(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("dev", "worker", "web", "db", "seed-demo", "create-token", "create-user"):
        line = next(line for line in result.output.splitlines() if line.strip().startswith(command))
        assert len(line.split(None, 1)) == 2, f"{command} has no help line"


def test_db_upgrade_migrates_and_publishes_the_default_process(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database is up to date" in result.output
    assert (tmp_path / "tempodesk.db").exists()


def test_seed_demo_prints_logins_once(runner: CliRunner) -> None:
    first = runner.invoke(main, ["seed-demo"])
    assert first.exit_code == 0, first.output
    for username in ("admin", "agent1", "agent2"):
        assert username in first.output
    assert "API token (admin): td_" in first.output
    second = runner.invoke(main, ["seed-demo"])
    assert "Demo data is already there." in second.output


def test_create_token_prints_a_token_that_authenticates(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(main, ["seed-demo"])
    result = runner.invoke(main, ["create-token", "agent1"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'tempodesk.db'}"))
    with sessions() as session:
        user = accounts.user_for_token(session, token)
        assert user is not None and user.username == "agent1"


def test_create_token_for_an_unknown_user_fails_clearly(runner: CliRunner) -> None:
    runner.invoke(main, ["db", "upgrade"])
    result = runner.invoke(main, ["create-token", "ghost"])
    assert result.exit_code != 0
    assert "No user named 'ghost'." in result.output


def test_create_user_with_a_password_from_the_environment(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner.invoke(main, ["seed-demo"])
    monkeypatch.setenv("TEMPODESK_NEW_PASSWORD", "a-long-password")
    result = runner.invoke(main, ["create-user", "carol", "--group", "Billing", "--name", "Carol"])
    assert result.exit_code == 0, result.output
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'tempodesk.db'}"))
    with sessions() as session:
        user = accounts.authenticate(session, "carol", "a-long-password")
        assert user is not None and [g.name for g in user.groups] == ["Billing"]
        assert user.role_names == ["agent"]


def test_create_user_with_roles_and_an_unknown_role_refused(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner.invoke(main, ["seed-demo"])
    monkeypatch.setenv("TEMPODESK_NEW_PASSWORD", "a-long-password")
    refused = runner.invoke(main, ["create-user", "dora", "--role", "boss"])
    assert refused.exit_code != 0 and "There is no role boss." in refused.output
    result = runner.invoke(main, ["create-user", "dora", "--role", "read-only"])
    assert result.exit_code == 0, result.output
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'tempodesk.db'}"))
    with sessions() as session:
        user = accounts.authenticate(session, "dora", "a-long-password")
        assert user is not None and user.role_names == ["read-only"] and user.rights == []


def test_process_validate_prints_every_problem_with_its_location(
    runner: CliRunner, tmp_path: Path
) -> None:
    from statemachines import bundled

    good = tmp_path / "good.yaml"
    good.write_text(bundled("returns").replace("name: returns", "name: returns_copy"))
    result = runner.invoke(main, ["process", "validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "valid (returns_copy: 7 states, 10 actions)" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        bundled("support")
        .replace("target: waiting_for_customer", "target: limbo")
        .replace("category: pending", "category: busy")
    )
    result = runner.invoke(main, ["process", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: actions.reply.target: Unknown target state 'limbo'." in result.output
    assert f"{bad}: states.waiting_for_customer.category: Unknown category 'busy'" in result.output


def test_process_publish_then_export_round_trips(runner: CliRunner, tmp_path: Path) -> None:
    from statemachines import bundled

    source = tmp_path / "mine.yaml"
    source.write_text(bundled("returns").replace("name: returns", "name: mine"))
    published = runner.invoke(main, ["process", "publish", str(source)])
    assert published.exit_code == 0, published.output
    assert published.output.strip() == "Published mine v1."
    exported = runner.invoke(main, ["process", "export", "mine"])
    assert exported.exit_code == 0
    again = tmp_path / "again.yaml"
    again.write_text(exported.output)
    assert runner.invoke(main, ["process", "publish", str(again)]).output.strip() == (
        "Published mine v1."  # the same document: no new version
    )
    missing = runner.invoke(main, ["process", "export", "nothing"])
    assert missing.exit_code != 0 and "No process named 'nothing' is published." in missing.output


def test_pending_list_shows_a_dead_lettered_opening_and_retry_brings_it_back(
    runner: CliRunner, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from tempodesk.core.models import PendingStart

    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'tempodesk.db'}"))
    with sessions.begin() as session:
        session.add(
            PendingStart(
                ticket_number="HD-1",
                payload="{}",
                attempts=5,
                last_error="ColumnTooLong: contacts.phone: at most 32 characters",
                dead_at=datetime.now(UTC),
            )
        )
    listed = runner.invoke(main, ["pending", "list"])
    assert listed.exit_code == 0, listed.output
    assert "HD-1" in listed.output and "dead" in listed.output and "contacts.phone" in listed.output
    retried = runner.invoke(main, ["pending", "retry", "HD-1"])
    assert retried.exit_code == 0 and "1 start(s)" in retried.output
    with sessions() as session:
        row = session.get(PendingStart, "HD-1")
        assert row is not None and row.dead_at is None and row.attempts == 0
