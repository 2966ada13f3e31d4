"""Bulk messages: a non-essential template goes once to each consenting contact of a segment
(by a workflow), with the one-click unsubscribe headers; contacts who refused such mail,
bounced or are outside the segment get nothing; sending again sends nobody twice; an
essential template is refused."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tempodesk.app.cli import main
from tempodesk.contracts.bulk import BulkRunInput
from tempodesk.core.db import transaction
from tempodesk.core.models import BulkRecipient, Contact, Organisation
from tempodesk.core.temporal_client import connect
from tempodesk.privacy.export import export_person
from tests.activities.test_send_template import a_template
from tests.helpers import Stack


@pytest.fixture
def runner(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    settings = stack.settings
    monkeypatch.setenv("TEMPODESK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TEMPODESK_TEMPORAL_ADDRESS", settings.temporal_target)
    return CliRunner()


def a_segment(stack: Stack) -> dict[str, str]:
    """An organisation with a consenting contact, one who refused, one who bounced; and a
    consenting contact elsewhere."""
    tag = uuid.uuid4().hex[:8]
    people = {k: f"{k}-{tag}@example.com" for k in ("yes", "refused", "bounced", "outside")}
    with transaction(stack.sessions) as session:
        org = Organisation(name=f"Org {tag}")
        session.add(org)
        session.flush()
        session.add_all(
            [
                Contact(email=people["yes"], name="Yes", organisation_id=org.id),
                Contact(email=people["refused"], organisation_id=org.id, non_essential_mail=False),
                Contact(
                    email=people["bounced"], organisation_id=org.id, bounced_at=datetime.now(UTC)
                ),
                Contact(email=people["outside"]),
            ]
        )
    return {"organisation": f"Org {tag}", **people}


def caught_for(sink: Any, address: str) -> list[Any]:
    return [m for m in list(sink.caught) if address in m.recipients]


def wait_until_sent(stack: Stack, bulk_id: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        with stack.sessions() as session:
            statuses = set(
                session.scalars(
                    select(BulkRecipient.status).where(BulkRecipient.bulk_id == bulk_id)
                )
            )
        if statuses and "pending" not in statuses:
            return
        assert time.monotonic() < deadline, statuses
        time.sleep(0.1)


def test_a_bulk_message_reaches_each_consenting_contact_of_the_segment_once(
    stack: Stack, sink: Any, runner: CliRunner
) -> None:
    segment = a_segment(stack)
    template = a_template(stack, essential=False)
    result = runner.invoke(
        main, ["bulk", "send", "--template", template, "--organisation", segment["organisation"]]
    )
    assert result.exit_code == 0, result.output
    bulk_id = int(result.output.split()[2])
    wait_until_sent(stack, bulk_id)
    [mail] = caught_for(sink, segment["yes"])
    assert mail.subject == "Hello" and "Our news" in mail.text()
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/support/unsubscribe/" in mail.message["List-Unsubscribe"]
    for nobody in ("refused", "bounced", "outside"):
        assert caught_for(sink, segment[nobody]) == []
    # The person's export lists it.
    with stack.sessions() as session:
        data, _subject = export_person(session, segment["yes"], now=datetime.now(UTC))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        contact = json.loads(archive.read("person.json"))["contact"]
    assert [(b["template"], b["status"]) for b in contact["bulk_messages"]] == [(template, "sent")]
    # The workflow run again (a retry, an operator's restart): nobody gets it twice.
    asyncio.run(run_again(stack, bulk_id))
    assert len(caught_for(sink, segment["yes"])) == 1


async def run_again(stack: Stack, bulk_id: int) -> None:
    client = await connect(stack.settings)
    await client.execute_workflow(
        "BulkMessageWorkflow",
        BulkRunInput(bulk_id),
        id=f"bulk-{bulk_id}-again",
        task_queue="tempodesk-tickets",
    )


def test_an_essential_template_is_not_sent_in_bulk(stack: Stack, runner: CliRunner) -> None:
    result = runner.invoke(main, ["bulk", "send", "--template", a_template(stack, essential=True)])
    assert result.exit_code != 0 and "essential" in result.output
