"""Nothing lost, nothing doubled: Temporal down, the worker killed, Temporal restarted, SMTP down.

These run against real parts: a worker process killed with SIGKILL, a persistent Temporal dev
server stopped and started again, an SMTP server answering 451.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tempodesk.app.devserver import TemporalDevServer, free_port
from tempodesk.app.runtime import Runtime
from tempodesk.core.failpoints import ENV as FAILPOINT
from tempodesk.core.models import Message, PendingStart, Ticket
from tempodesk.core.settings import Settings
from tempodesk.core.temporal import TemporalFacade
from tests.conftest import make_settings
from tests.helpers import Stack, WorkerThread, build_stack, close_stack, csrf_token
from tests.reliability.faults import TcpProxy
from tests.reliability.ledger import Ledger, assert_clean
from web import create_app


def post_ticket(stack: Stack, key: str, app: Any = None) -> Any:
    client = (app or stack.app).test_client()
    return client.post(
        "/api/v1/tickets",
        json={
            "subject": f"Outage test {key}",
            "body": f"Still there? {key}",
            "customer": {"email": "outage@example.org"},
            "idempotency_key": key,
        },
        headers=stack.api(),
    )


def tickets_for(stack: Stack, subject_prefix: str) -> list[Ticket]:
    with stack.sessions() as session:
        return list(
            session.scalars(select(Ticket).where(Ticket.subject.like(f"{subject_prefix}%")))
        )


def test_temporal_unreachable_requests_are_accepted_and_filed_once_it_is_back(
    stack: Stack,
) -> None:
    down = stack.settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    runtime = Runtime(down)
    runtime.__dict__["sessions"] = stack.sessions  # the same database, a dead Temporal
    broken = create_app({"TESTING": True}, runtime=runtime)
    key = f"down-{uuid.uuid4()}"
    try:
        response = post_ticket(stack, key, broken)
        assert response.status_code == 202
        accepted = response.get_json()
        assert accepted["queued"] is True and accepted["state"] is None
        number = accepted["number"]
        again = post_ticket(stack, key, broken)  # the integration retries while still down
        assert again.status_code == 202 and again.get_json()["number"] == number
        # The web form gives the customer their number, not an error.
        client = broken.test_client()
        page = client.get("/support/new").get_data(as_text=True)
        form = client.post(
            "/support/new",
            data={
                "csrf_token": csrf_token(page),
                "email": "outage@example.org",
                "subject": f"Outage form {key}",
                "message": "Hello?",
                "submission": re.search(
                    r'name="submission" type="hidden" value="([^"]+)"', page
                ).group(1),  # type: ignore[union-attr]
            },
        )
        assert form.status_code == 302
        confirmation = client.get(form.headers["Location"]).get_data(as_text=True)
        found = re.search(r'class="ticket-number">([^<]+)<', confirmation)
        assert found is not None
        form_number = found.group(1)
        # An action on an existing ticket cannot wait for later: it says so.
        existing = post_ticket(stack, f"up-{key}").get_json()["number"]
        refused = broken.test_client().post(
            f"/api/v1/tickets/{existing}/actions/comment",
            json={"fields": {"body": "while down"}},
            headers=stack.api(),
        )
        assert refused.status_code == 503
        assert refused.get_json()["error"]["code"] == "engine_unavailable"
    finally:
        runtime.temporal.close()
    assert tickets_for(stack, f"Outage test {key}") == []
    assert tickets_for(stack, f"Outage form {key}") == []

    # Temporal is back: the worker's next round starts both, once.
    assert stack.runtime.intake.resume_pending(older_than=timedelta(0)) >= 2
    [ticket] = tickets_for(stack, f"Outage test {key}")
    [form_ticket] = tickets_for(stack, f"Outage form {key}")
    assert ticket.number == number and form_ticket.number == form_number
    assert stack.runtime.intake.resume_pending(older_than=timedelta(0)) == 0
    with stack.sessions() as session:
        messages = session.scalar(
            select(func.count()).select_from(Message).where(Message.ticket_number == number)
        )
        waiting = session.scalar(
            select(func.count())
            .select_from(PendingStart)
            .where(PendingStart.ticket_number.in_([number, form_number]))
        )
    assert messages == 1 and waiting == 0
    retried = post_ticket(stack, key)
    assert retried.status_code == 201 and retried.get_json()["number"] == number
    assert retried.headers["Idempotent-Replayed"] == "true"


# ------------------------------------------------------------------ worker killed


@pytest.fixture
def process_stack(tmp_path: Path, temporal: TemporalDevServer) -> Iterator[Stack]:
    """A stack whose worker is a real `tempodesk worker` process (see ``spawn_worker``)."""
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'tempodesk.db'}",
        temporal,
        temporal_namespace="reliability",
        ticket_number_template=f"RK{uuid.uuid4().hex[:4]}-{{seq}}",
    )
    runtime = Runtime(settings, temporal=TemporalFacade(settings, timeout=45))
    built = build_stack(settings, runtime=runtime, worker=False)
    yield built
    close_stack(built)
    runtime.temporal.close()


def spawn_worker(settings: Settings, failpoint: str = "") -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPODESK_")}
    if failpoint:
        env[FAILPOINT] = failpoint
    env.update(
        TEMPODESK_DATABASE_URL=settings.db_url,
        TEMPODESK_TEMPORAL_ADDRESS=settings.temporal_target,
        TEMPODESK_TEMPORAL_NAMESPACE=settings.temporal_namespace,
        TEMPODESK_SMTP_PORT=str(settings.smtp_port),
        TEMPODESK_VAR_DIR=str(settings.var_dir),
        TEMPODESK_RESUME_PENDING_SECONDS="1",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "tempodesk.app.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def file(stack: Stack, key: str) -> str:
    for _ in range(5):  # what a client does on 202 or 503: retry with the same key
        response = post_ticket(stack, key)
        if response.status_code == 201:
            number: str = response.get_json()["number"]
            return number
        # 202: stored and numbered, not confirmed yet (the worker was just killed).
        assert response.status_code in (202, 503), response.get_json()
    raise AssertionError(f"{key} was never filed")


def test_worker_killed_during_a_burst_loses_and_doubles_nothing(process_stack: Stack) -> None:
    """R1: SIGKILL at a random moment of a burst of requests."""
    stack = process_stack
    ledger = Ledger(stack, "R1", "kill mid-burst")
    worker = spawn_worker(stack.settings)
    keys = [ledger.token() for i in range(12)]
    try:
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(file, stack, key) for key in keys]
            time.sleep(0.8)
            worker.send_signal(signal.SIGKILL)  # mid-burst, no goodbye
            worker.wait()
            time.sleep(1)
            restarted = time.monotonic()
            worker = spawn_worker(stack.settings)
            numbers = [f.result(timeout=120) for f in futures]
            ledger.measured["recovery_time"] = time.monotonic() - restarted
        assert len(set(numbers)) == len(keys)
        filed = tickets_for(stack, f"Outage test T-{ledger.run_tag}")
        assert sorted(t.number for t in filed) == sorted(numbers)
        assert all(t.state == "new" and t.event_seq == 1 for t in filed)
        assert_clean(ledger)
    finally:
        worker.terminate()
        worker.wait(30)


@pytest.mark.reliability
def test_worker_killed_after_smtp_accepted_or_projection_committed_doubles_nothing_else(
    process_stack: Stack,
) -> None:
    """R1 windows (a) after SMTP 250, (b) after the projection's COMMIT: the kill lands
    exactly there (a failpoint); (a) may send the mail once more, with the same Message-ID."""
    stack = process_stack
    ledger = Ledger(stack, "R1", "kill in windows a+b")
    worker = spawn_worker(stack.settings, failpoint="projection_after_commit")
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(file, stack, ledger.token())
            assert worker.wait(60) == 137  # died right after committing the new ticket
            worker = spawn_worker(stack.settings)
            number = pending.result(timeout=120)
        worker.terminate()
        worker.wait(30)
        worker = spawn_worker(stack.settings, failpoint="smtp_after_accept")
        reply = stack.client().post(
            f"/api/v1/tickets/{number}/actions/reply",
            json={"fields": {"body": "Sent by a worker that dies at once."}},
            headers=stack.api(),
        )
        assert reply.status_code == 200, reply.get_json()
        assert worker.wait(60) == 137  # the server said 250, the activity never returned
        ledger.allowed_twice = 1
        worker = spawn_worker(stack.settings)
        text = "Sent by a worker that dies at once."
        deadline = time.monotonic() + 120  # start-to-close (60 s), then the retry
        mails: list[Any] = []
        while len(mails) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            mails = [m for m in list(stack.sink.caught) if text in m.text()]
        assert len(mails) == 2 and len({m.message_id for m in mails}) == 1
        ledger.measured["notes"] = "window a: 1 kill, 1 mail sent twice with one Message-ID"
        assert_clean(ledger, settle=30)
    finally:
        worker.terminate()
        worker.wait(30)


def test_the_worker_files_by_itself_what_was_accepted_while_temporal_was_away(
    process_stack: Stack,
) -> None:
    stack = process_stack
    down = stack.settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    runtime = Runtime(down)
    runtime.__dict__["sessions"] = stack.sessions
    try:
        accepted = post_ticket(stack, "while-away", create_app({"TESTING": True}, runtime=runtime))
    finally:
        runtime.temporal.close()
    assert accepted.status_code == 202
    worker = spawn_worker(stack.settings)  # nobody retries: the worker's round must do it
    try:
        for _ in range(120):
            filed = tickets_for(stack, "Outage test while-away")
            if filed:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(30)
    [ticket] = filed
    assert ticket.number == accepted.get_json()["number"] and ticket.state == "new"


# ------------------------------------------------------------------ Temporal restarted


def test_temporal_restart_keeps_tickets_and_they_carry_on(tmp_path: Path) -> None:
    port = free_port()

    def server() -> TemporalDevServer:
        return TemporalDevServer(port=port, db_file=tmp_path / "temporal.db")

    first = server()
    first.start()
    settings = Settings(  # type: ignore[call-arg]
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'tempodesk.db'}",
        temporal_address=first.address,
        smtp_port=free_port(),
        secret_key="test",
    )
    stack = build_stack(settings)
    ledger = Ledger(stack, "R2", "restart")
    try:
        number = post_ticket(stack, ledger.token()).get_json()["number"]
        first.stop()
        second = server()
        second.start()
        try:
            client = stack.client()
            response = None
            for _ in range(60):  # the worker and the facade reconnect by themselves
                response = client.post(
                    f"/api/v1/tickets/{number}/actions/set_priority",
                    json={"fields": {"priority": 4}},
                    headers=stack.api(),
                )
                if response.status_code == 200:
                    break
                time.sleep(0.5)
            assert response is not None and response.status_code == 200, response.get_json()
            ticket = client.get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
            assert ticket["priority"] == 4
            assert [e["kind"] for e in ticket["events"]] == ["created", "action"]
            after = post_ticket(stack, ledger.token())  # and new tickets are filed again
            assert after.status_code == 201, after.get_json()
            assert_clean(ledger)
        finally:
            close_stack(stack)
            second.stop()
    finally:
        first.stop()


# ------------------------------------------------------------------ SMTP down


def test_reply_during_an_smtp_outage_is_delivered_once_when_it_is_back(
    stack: Stack, sink: Any
) -> None:
    """R4 (b): the server answers 451 for a while, then takes the mail: delivered once."""
    ledger = Ledger(stack, "R4", "451 then back")
    number = ledger.ticket(post_ticket(stack, ledger.token()).get_json()["number"])
    sink.unavailable = True
    response = stack.client().post(
        f"/api/v1/tickets/{number}/actions/reply",
        json={"fields": {"body": "Sent while the mail server was down."}},
        headers=stack.api(),
    )
    assert response.status_code == 200  # the agent is not kept waiting by SMTP
    assert response.get_json()["ticket"]["messages"][-1]["delivery_status"] == "queued"
    time.sleep(1.5)
    assert sink.caught == []
    sink.unavailable = False
    [mail] = sink.wait_for(1, timeout=30)
    assert "Sent while the mail server was down." in mail.text()
    # The send activity marks the message sent; the workflow then records the event (two
    # writes, moments apart): wait for both.
    for _ in range(100):
        ticket = stack.client().get(f"/api/v1/tickets/{number}", headers=stack.api()).get_json()
        sent = ticket["messages"][-1]["delivery_status"] == "sent"
        if sent and ticket["events"][-1]["kind"] == "email_sent":
            break
        time.sleep(0.1)
    assert ticket["messages"][-1]["delivery_status"] == "sent"
    assert [e["kind"] for e in ticket["events"]][-1] == "email_sent"
    time.sleep(1)
    assert len(sink.caught) == 1
    assert_clean(ledger)


@pytest.fixture
def proxied_worker(stack: Stack, pg_url: str, temporal: TemporalDevServer) -> Iterator[Any]:
    """The stack's database and mail sink with a worker of its own (namespace ``faults``)
    that reaches PostgreSQL only through a fault proxy; the web app talks to it directly."""
    host_port = pg_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    proxy = TcpProxy(host, int(port))
    direct = stack.settings.model_copy(update={"temporal_namespace": "faults"})
    through = direct.model_copy(
        update={"database_url": pg_url.replace(host_port, f"127.0.0.1:{proxy.port}")}
    )
    runtime = Runtime(direct)
    worker = WorkerThread(through).start()
    app = create_app({"TESTING": True}, runtime=runtime)
    yield (
        proxy,
        Stack(direct, runtime, app, stack.sink, worker, stack.logins, stack.token, stack.tokens),
    )
    proxy.up()
    worker.stop()
    runtime.close()
    proxy.close()


def test_database_away_during_a_projection_catches_up_without_loss_or_drift(
    proxied_worker: Any,
) -> None:
    """R3 (a, d): the worker's database connections are cut mid-flight and refused for a
    while; an agent's action and a new request wait for it and land once, the projection
    matches the workflows afterwards."""
    proxy, stack = proxied_worker
    ledger = Ledger(stack, "R3", "connections cut, 3 s away")
    number = ledger.ticket(file(stack, ledger.token()))
    proxy.down()
    with ThreadPoolExecutor(2) as pool:
        action = pool.submit(
            lambda: stack.client().post(
                f"/api/v1/tickets/{number}/actions/set_priority",
                json={"fields": {"priority": 4}},
                headers=stack.api(),
            )
        )
        new = pool.submit(file, stack, ledger.token())
        time.sleep(3)
        assert not action.done()  # the projection waits for the database
        back = time.monotonic()
        proxy.up()
        assert action.result(timeout=60).status_code == 200
        new.result(timeout=60)
        ledger.measured["recovery_time"] = time.monotonic() - back
    with stack.sessions() as session:
        row = session.scalar(select(Ticket).where(Ticket.number == number))
        assert row is not None and row.priority == 4
    assert_clean(ledger)


def test_database_down_answers_503_not_a_stack_trace(stack: Stack) -> None:
    down = stack.settings.model_copy(
        update={"database_url": f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"}
    )
    runtime = Runtime(down)
    app = create_app({"TESTING": True}, runtime=runtime)
    try:
        api = app.test_client().get("/api/v1/tickets", headers={"Authorization": "Bearer td_x"})
        page = app.test_client().get("/readyz")
        alive = app.test_client().get("/healthz")
    finally:
        runtime.close()
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "database_unavailable"
    assert page.status_code == 503 and "Traceback" not in page.get_data(as_text=True)
    assert page.get_json()["checks"]["database"] == "unavailable"
    assert alive.status_code == 200  # liveness: the process answers, whatever it depends on
