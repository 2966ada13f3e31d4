"""R16 (the SMS part): one SMS per logical send while the gateway fails (500, 429, an answer
lost after accepting), its delivery reports are replayed, an admin points it inside, and the
worker dies right after the gateway accepted. The ledger counts ``sms_sent_twice`` from the
stand-in's references (ticket, event, message, number) against the ambiguous sends."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import update

from tempodesk.core.db import transaction
from tempodesk.core.failpoints import ENV as FAILPOINT
from tempodesk.core.models import Message, SmsGateway
from tempodesk.core.settings import Settings
from tempodesk.telephony import sms
from tests.helpers import Stack
from tests.reliability.ledger import Ledger, assert_clean
from tests.reliability.test_outages import process_stack  # noqa: F401 - a fixture
from tests.sms_helpers import (
    a_mobile,
    eventually,
    sms_messages,
    stand_in,
    text_customer,
    texting_ticket,
)


def sent_sms(stack: Stack, number: str, *statuses: str) -> Message:
    wanted = statuses or ("delivered",)
    found = eventually(
        lambda: [m for m in sms_messages(stack, number) if m.delivery_status in wanted], 90
    )
    message: Message = found[0]
    return message


def one_send(stack: Stack, ledger: Ledger, gateway: Any, fail: Any) -> Message:
    """A ticket whose SMS meets ``fail`` once, then a gateway that works again."""
    number = ledger.ticket(texting_ticket(stack, a_mobile(), ledger.token()))
    gateway.fail = fail
    text_customer(stack, number)
    if fail == "timeout":
        eventually(lambda: any(m.delivery_status == "unknown" for m in sms_messages(stack, number)))
    else:
        eventually(lambda: any(str(fail) in m.delivery_detail for m in sms_messages(stack, number)))
    gateway.fail = None
    return sent_sms(stack, number)


@pytest.mark.parametrize("provider", ["generic", "twilio"])
def test_gateway_faults_and_replayed_reports_send_one_sms_per_logical_send(
    stack: Stack, provider: str
) -> None:
    ledger = Ledger(stack, "R16", f"SMS gateway faults, {provider}")
    with stand_in(stack, provider) as gateway:
        gateway.hang_seconds = stack.settings.sms_timeout_seconds + 1
        ledger.sms_gateway = gateway
        for fail in (500, 429, "timeout"):
            one_send(stack, ledger, gateway, fail)
        reports = len(gateway.callback_log)
        for caught in list(gateway.caught):  # every delivery report again
            gateway.report(caught, ("delivered", "sent"))
        assert len(gateway.callback_log) == reports + 2 * len(gateway.caught)
        # An admin points the gateway inside (the SSRF group): refused when saved ...
        strict: Settings = stack.settings.model_copy(update={"allow_private_sms_hosts": False})
        blocked = 0
        for url in ("http://169.254.169.254/latest/", "http://127.0.0.1:6379/", "http://10.0.0.5/"):
            with transaction(stack.sessions) as session, pytest.raises(sms.GatewayInvalid):
                sms.save_gateway(
                    session,
                    strict,
                    provider=provider,
                    url=url,
                    account="AC1",
                    sender="+420777000111",
                )
            blocked += 1
        # ... and when sent (a URL stored before the rule): recorded failed, nothing sent.
        with transaction(stack.sessions) as session:
            session.execute(update(SmsGateway).values(url="http://169.254.169.254/latest/"))
        number = ledger.ticket(texting_ticket(stack, a_mobile(), ledger.token()))
        caught = len(gateway.caught)
        text_customer(stack, number)
        refused = sent_sms(stack, number, "failed")
        assert "link-local" in refused.delivery_detail and len(gateway.caught) == caught
        blocked += 1
        messages = [m for n in ledger.tickets for m in sms_messages(stack, n)]
        assert all(m.delivery_status in ("delivered", "failed") for m in messages)
        ledger.measured.update(
            sends=len(gateway.caught),
            duplicates=sum(n - 1 for n in gateway.references().values()),
            unknowns=sum(m.delivery_ambiguous for m in messages),
            blocked_urls=blocked,
        )
        assert_clean(ledger)
        if provider == "generic":  # its Idempotency-Key: even the resend sent nothing
            assert all(n == 1 for n in gateway.references().values())


def spawn_worker(settings: Settings, failpoint: str = "") -> subprocess.Popen[bytes]:
    """A `tempodesk worker` process that can read the gateway's sealed secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPODESK_")}
    if failpoint:
        env[FAILPOINT] = failpoint
    env.update(
        TEMPODESK_DATABASE_URL=settings.db_url,
        TEMPODESK_TEMPORAL_ADDRESS=settings.temporal_target,
        TEMPODESK_TEMPORAL_NAMESPACE=settings.temporal_namespace,
        TEMPODESK_SMTP_PORT=str(settings.smtp_port),
        TEMPODESK_VAR_DIR=str(settings.var_dir),
        TEMPODESK_SECRET_KEY=settings.session_secret(),
        TEMPODESK_BASE_URL=settings.public_url,
        TEMPODESK_ALLOW_PRIVATE_SMS_HOSTS="true",
        TEMPODESK_SMS_TIMEOUT_SECONDS=str(settings.sms_timeout_seconds),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "tempodesk.app.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def killed_after_accept(stack: Stack, provider: str) -> tuple[Ledger, Any, Message]:
    ledger = Ledger(stack, "R16", f"worker killed after the gateway accepted, {provider}")
    worker = spawn_worker(stack.settings)
    try:
        with stand_in(stack, provider) as gateway:
            ledger.sms_gateway = gateway
            number = ledger.ticket(texting_ticket(stack, a_mobile(), ledger.token()))
            worker.terminate()
            worker.wait(30)
            worker = spawn_worker(stack.settings, failpoint="sms_after_accept")
            # No delivery report before the retry: otherwise it would prove the SMS went.
            gateway.callbacks = False
            text_customer(stack, number)
            assert worker.wait(90) == 137  # the gateway took it; the activity never returned
            worker = spawn_worker(stack.settings)
            message = sent_sms(stack, number, "sent")
            duplicates = sum(n - 1 for n in gateway.references().values())
            ledger.measured.update(sends=len(gateway.caught), duplicates=duplicates, unknowns=1)
            assert_clean(ledger, settle=30)
            return ledger, gateway, message
    finally:
        worker.terminate()
        worker.wait(30)


def test_a_worker_killed_after_the_gateway_accepted_sends_it_once_with_a_key(
    process_stack: Stack,  # noqa: F811
) -> None:
    _, gateway, message = killed_after_accept(process_stack, "generic")
    assert len(gateway.caught) == 1  # the resend carried the same Idempotency-Key
    assert message.delivery_ambiguous and message.send_attempts == 2


@pytest.mark.reliability
def test_a_worker_killed_after_twilio_accepted_resends_at_most_once_flagged(
    process_stack: Stack,  # noqa: F811
) -> None:
    _, gateway, message = killed_after_accept(process_stack, "twilio")
    assert len(gateway.caught) == 2  # no key in Twilio's shape: the one allowed resend
    assert message.delivery_ambiguous
