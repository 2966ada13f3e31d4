"""`tempodesk doctor` on the test stack: every check passes where the deployment is sound,
and a dead SMTP server or a missing secret key is reported with exit status 1."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tempodesk.app.cli import main
from tempodesk.app.devserver import free_port
from tempodesk.app.worker import polled, selected_queues
from tempodesk.contracts import MAIL_TASK_QUEUE, MAILBOX_TASK_QUEUE, TICKET_TASK_QUEUE
from tests.helpers import Stack


@pytest.fixture
def runner(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    settings = stack.settings
    monkeypatch.setenv("TEMPODESK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TEMPODESK_TEMPORAL_ADDRESS", settings.temporal_target)
    monkeypatch.setenv("TEMPODESK_SMTP_PORT", str(settings.smtp_port))
    monkeypatch.setenv("TEMPODESK_SECRET_KEY", "x" * 48)
    return CliRunner()


def test_doctor_passes_on_a_sound_deployment(runner: CliRunner) -> None:
    result = runner.invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(line.startswith("ok") for line in lines), result.output
    assert any("queue tempodesk-mail: pollers: activity" in line for line in lines)
    assert any(f"queue {MAILBOX_TASK_QUEUE}: pollers: workflow" in line for line in lines)
    assert any("migrations at head" in line for line in lines)


def test_doctor_reports_a_dead_smtp_server_and_a_missing_secret(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPODESK_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("TEMPODESK_SECRET_KEY", "")
    result = runner.invoke(main, ["doctor"])
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert [line.split(":")[0] for line in failed] == ["FAIL  secret key", "FAIL  smtp"]


def test_a_worker_may_poll_a_subset_of_the_queues() -> None:
    assert selected_queues("tickets, mail") == [TICKET_TASK_QUEUE, MAIL_TASK_QUEUE]
    with pytest.raises(ValueError):
        selected_queues("tickets,sms")


def test_a_worker_of_the_tickets_queue_polls_the_mailboxes_queue_too() -> None:
    assert polled([TICKET_TASK_QUEUE]) == [TICKET_TASK_QUEUE, MAILBOX_TASK_QUEUE]
    assert polled([MAIL_TASK_QUEUE]) == [MAIL_TASK_QUEUE]


def test_a_worker_polls_every_queue_unless_told_otherwise() -> None:
    from tempodesk.app.worker import QUEUES
    from tempodesk.core.settings import Settings

    default = Settings.model_fields["worker_queues"].default
    assert sorted(selected_queues(default)) == sorted(QUEUES.values())
