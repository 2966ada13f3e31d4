"""The ledger itself: it must see what it is there to count, or its zeros prove nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from benchmarks.reliability import expected_failures, table, verdict
from tempodesk.core.db import transaction
from tempodesk.core.models import Ticket
from tests.helpers import Stack
from tests.reliability.ledger import Ledger, assert_clean, count


def file_ticket(stack: Stack, ledger: Ledger) -> str:
    token = ledger.token()
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": f"Ledger {token}",
            "body": f"Body of {token}",
            "customer": {"email": "ledger@example.org"},
            "idempotency_key": token,
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def test_a_clean_run_counts_zero_everywhere(stack: Stack, sink: Any) -> None:
    ledger = Ledger(stack, "ledger")
    numbers = [file_ticket(stack, ledger) for _ in range(2)]
    result = assert_clean(ledger)
    assert len(set(numbers)) == 2
    assert result["items"] == 2 and result["tickets_checked"] == 2


def test_the_ledger_sees_loss_drift_duplicates_and_violations(stack: Stack, sink: Any) -> None:
    ledger = Ledger(stack, "ledger")
    number = file_ticket(stack, ledger)
    ledger.token()  # submitted, but nothing ever came of it
    with transaction(stack.sessions) as session:  # the projection says what the workflow does not
        session.execute(update(Ticket).where(Ticket.number == number).values(state="closed"))
    for _ in range(2):  # one outgoing mail accepted twice by the SMTP server
        sink.store(
            "desk@example.org",
            ["someone@example.org"],
            b"Message-ID: <same@desk>\r\nSubject: twice\r\n\r\nbody\r\n",
        )
    ledger.violation("customer A read B's ticket")
    result = count(ledger)
    assert result["tickets_lost"] == 1
    assert result["projection_drift"] == 1
    assert result["emails_sent_twice"] == 1
    assert result["security_violations"] == 1
    assert (result["dup_tickets"], result["stuck"], result["failed_wf"]) == (0, 0, 0)
    with transaction(stack.sessions) as session:
        session.execute(update(Ticket).where(Ticket.number == number).values(state="new"))


def test_the_scoreboard_shows_every_row_and_blocks_a_release_on_any_nonzero() -> None:
    clean = {"run": "1", "scenario": "R4", "variant": "quick", "tickets_lost": 0, "notes": ""}
    lossy = dict(clean, run="2", tickets_lost=1, notes="a|b")
    text = table([clean, lossy])
    assert text.count("\n") == 3 and "| 2 | R4 | quick | 1 |" in text and "a/b" in text
    assert verdict([clean], [{"t": "passed", "u": "xfailed"}]) == []
    assert verdict([clean, lossy], [{"t": "failed"}]) == [
        "run 2 R4: tickets_lost = 1",
        "run 1: t failed",
    ]
    pending = dict(lossy, run="1", test="tests/reliability/test_x.py::test_y[a]")
    runs = [{"tests.reliability.test_x.test_y[a]": "xfailed"}]
    expected_failures([pending], runs)  # a fix not merged yet: shown, not held against it
    assert pending["notes"].startswith("XFAIL") and verdict([pending], runs) == []
