"""Sending what a ticket queued: replies and templates, each by an activity on the mail queue.

``deliver`` runs one queued mail to its end (sent, or failed for good) and says what the
timeline records about it; the ticket's workflow records and projects. Retries, timeouts and
permanent failures are set here, once for every kind of mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from tempodesk.contracts import (
        ACT_PREPARE_TEMPLATE,
        ACT_SEND_MAIL,
        ACT_SEND_NOTICE,
        ACT_SEND_SMS,
        ACT_SEND_TEMPLATE,
        MAIL_TASK_QUEUE,
        TELEPHONY_TASK_QUEUE,
        MessageLink,
        Notice,
        OutboundMail,
        PreparedTemplate,
        SendMailInput,
        SendMailResult,
        SendNoticeInput,
        SendSmsInput,
        SendSmsResult,
        SendTemplateInput,
        SendTemplateResult,
        TemplateDelivery,
        TicketSnapshot,
    )
    from workflows.calls import place_call

# SMTP: client timeout (settings.smtp_timeout_seconds) < start-to-close; a 1-hour outage
# never exhausts the retry window; a 5xx from the server is permanent (no retry).
MAIL_START_TO_CLOSE = timedelta(seconds=60)
MAIL_SCHEDULE_TO_CLOSE = timedelta(days=3)
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["PermanentDeliveryFailure"],
)
# A live attempt beats every few seconds, even while a slow server answers (activities.smtp):
# a killed worker's attempt is retried after this, not after the whole start-to-close.
MAIL_HEARTBEAT = timedelta(seconds=30)
# Patch: a template is prepared (rendered and stored for every recipient) by one activity,
# then sent by one activity per recipient. Before: one activity rendered and sent them all.
TEMPLATE_PER_RECIPIENT = "template-per-recipient"
# Patch: an SMS copy of a template is sent by ``send_sms`` on the telephony queue. Before:
# ``send_notice`` recorded it failed ("No SMS gateway is configured").
SMS_ON_TELEPHONY = "sms-on-telephony"
# SMS: the provider's answer (settings.sms_timeout_seconds) < the heartbeat timeout, so a
# killed worker's attempt is retried within it; the attempt after a lost answer is the one
# resend (activities/sms.py).
SMS_START_TO_CLOSE = timedelta(seconds=60)
SMS_SCHEDULE_TO_CLOSE = timedelta(days=1)
SMS_HEARTBEAT = timedelta(seconds=20)


_R = TypeVar("_R")
SENT = ("sent", "delivered")


async def _on_mail_queue(
    activity: str, arg: Any, result_type: type[_R], *, heartbeat: bool = True
) -> _R:
    """One activity on the mail queue, with the timeouts and retries all mail shares (the
    first template activity predates heartbeats: its runs replay without one)."""
    result: _R = await workflow.execute_activity(
        activity,
        arg,
        result_type=result_type,
        task_queue=MAIL_TASK_QUEUE,
        start_to_close_timeout=MAIL_START_TO_CLOSE,
        schedule_to_close_timeout=MAIL_SCHEDULE_TO_CLOSE,
        heartbeat_timeout=MAIL_HEARTBEAT if heartbeat else None,
        retry_policy=MAIL_RETRY,
    )
    return result


async def send_sms(request: SendSmsInput) -> SendSmsResult:
    """One SMS by the telephony queue's ``send_sms`` (a failure is reported, never raised)."""
    try:
        result: SendSmsResult = await workflow.execute_activity(
            ACT_SEND_SMS,
            request,
            result_type=SendSmsResult,
            task_queue=TELEPHONY_TASK_QUEUE,
            start_to_close_timeout=SMS_START_TO_CLOSE,
            schedule_to_close_timeout=SMS_SCHEDULE_TO_CLOSE,
            heartbeat_timeout=SMS_HEARTBEAT,
            retry_policy=MAIL_RETRY,
        )
    except ActivityError as exc:
        return SendSmsResult("failed", "", _failure(exc))
    return result


@dataclass
class TimelineEntry:
    """An event the ticket's timeline gets for a delivery."""

    kind: str
    message_id: int | None
    data: dict[str, Any]


@dataclass
class Delivered:
    links: list[MessageLink] = field(default_factory=list)
    entries: list[TimelineEntry] = field(default_factory=list)


async def deliver(mail: OutboundMail, ticket: TicketSnapshot) -> Delivered:
    """Send one queued mail (or place a queued call); a failure is reported, never raised."""
    if mail.kind == "call":
        kind, data = await place_call(mail, ticket)
        return Delivered(entries=[TimelineEntry(kind, None, data)])
    if mail.kind == "template":
        return await _deliver_template(mail, ticket)
    if mail.kind == "sms":
        return await _deliver_sms_reply(mail, ticket)
    return await _deliver_reply(mail, ticket)


async def _deliver_sms_reply(mail: OutboundMail, ticket: TicketSnapshot) -> Delivered:
    """Send a queued reply as an SMS (exactly once: activities/sms.py)."""
    sent = await send_sms(SendSmsInput(ticket.number, mail.event_seq, mail.message_id, mail.to))
    link = MessageLink(
        message_id=mail.message_id,
        channel="sms",
        sender_role="agent",
        internal=False,
        author=mail.author,
        recipient=mail.to,
        delivery_status=sent.status,
    )
    entry = TimelineEntry(
        "sms_sent" if sent.status in SENT else "sms_failed",
        mail.message_id,
        {
            "to": mail.to,
            "provider_message_id": sent.provider_message_id,
            "detail": sent.detail[:500],
            "ambiguous": sent.ambiguous,
        },
    )
    return Delivered([link], [entry])


def _failure(exc: ActivityError) -> str:
    cause = exc.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or exc)


async def _deliver_template(mail: OutboundMail, ticket: TicketSnapshot) -> Delivered:
    """Render and send a template to its recipients (each once, under its own Message-ID)."""
    request = _template_input(mail, ticket)
    if workflow.patched(TEMPLATE_PER_RECIPIENT):
        result = await _template_per_recipient(request)
    else:
        try:
            result = await _on_mail_queue(
                ACT_SEND_TEMPLATE,
                request,
                SendTemplateResult,
                heartbeat=False,
            )
        except ActivityError as exc:
            result = SendTemplateResult(skipped=f"failed: {_failure(exc)}")
    delivered = Delivered()
    for delivery in result.deliveries:
        delivered.links.append(
            MessageLink(
                message_id=delivery.message_id,
                channel=delivery.channel,
                sender_role="system",
                internal=mail.to_role != "customer",
                author="system",
                recipient=delivery.recipient,
                delivery_status=delivery.status,
            )
        )
        delivered.entries.append(
            TimelineEntry(
                "template_sent" if delivery.status in SENT else "template_failed",
                delivery.message_id,
                {
                    "template": mail.template,
                    "to": delivery.recipient,
                    "role": mail.to_role,
                    "smtp_message_id": delivery.smtp_message_id,
                    "detail": delivery.detail[:500],
                    **(
                        {"channel": "sms", "ambiguous": delivery.ambiguous}
                        if delivery.channel == "sms"
                        else {}
                    ),
                },
            )
        )
    if not result.deliveries:
        delivered.entries.append(
            TimelineEntry(
                "template_skipped",
                None,
                {"template": mail.template, "role": mail.to_role, "detail": result.skipped},
            )
        )
    return delivered


async def _template_per_recipient(request: SendTemplateInput) -> SendTemplateResult:
    """Prepare the copies, then send each by an activity of its own, one after another: a
    retry reaches only its recipient, and one recipient's failure is only theirs."""
    try:
        prepared: PreparedTemplate = await _on_mail_queue(
            ACT_PREPARE_TEMPLATE,
            request,
            PreparedTemplate,
        )
    except ActivityError as exc:
        return SendTemplateResult(skipped=f"failed: {_failure(exc)}")
    deliveries = []
    for notice in prepared.notices:
        if notice.channel == "sms" and workflow.patched(SMS_ON_TELEPHONY):
            deliveries.append(await _sms_notice(request, notice))
            continue
        try:
            delivery: TemplateDelivery = await _on_mail_queue(
                ACT_SEND_NOTICE,
                SendNoticeInput(request, notice),
                TemplateDelivery,
            )
        except ActivityError as exc:
            delivery = TemplateDelivery(
                notice.recipient, notice.message_id, "failed", "", _failure(exc)
            )
        deliveries.append(delivery)
    return SendTemplateResult(deliveries=deliveries, skipped=prepared.skipped)


async def _sms_notice(request: SendTemplateInput, notice: Notice) -> TemplateDelivery:
    sent = await send_sms(
        SendSmsInput(request.ticket_number, request.event_seq, notice.message_id, notice.recipient)
    )
    return TemplateDelivery(
        notice.recipient,
        notice.message_id,
        sent.status,
        sent.provider_message_id,
        sent.detail,
        channel="sms",
        ambiguous=sent.ambiguous,
    )


def _template_input(mail: OutboundMail, ticket: TicketSnapshot) -> SendTemplateInput:
    return SendTemplateInput(
        ticket_number=ticket.number,
        event_seq=mail.event_seq,
        template=mail.template,
        to_role=mail.to_role,
        effect_index=mail.effect_index,
        actor=mail.author,
        action_id=mail.action_id,
        action_label=mail.action_label,
        fields=mail.fields,
        message_id=mail.message_id or None,
        auto_submitted=mail.auto_submitted or "auto-generated",
        outgoing=list(mail.outgoing),
    )


async def _deliver_reply(mail: OutboundMail, ticket: TicketSnapshot) -> Delivered:
    """Send a queued reply; a permanent failure is shown on the ticket, never retried."""
    subject = ticket.subject
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    try:
        result: SendMailResult = await _on_mail_queue(
            ACT_SEND_MAIL,
            SendMailInput(
                ticket_number=ticket.number,
                event_seq=mail.event_seq,
                message_id=mail.message_id,
                to=mail.to,
                subject=f"[{ticket.number}] {subject}",
                in_reply_to=ticket.customer_message_id,
                outgoing=list(mail.outgoing),
            ),
            SendMailResult,
        )
        status, detail, smtp_id = result.status, result.detail, result.smtp_message_id
    except ActivityError as exc:
        status, detail, smtp_id = "failed", _failure(exc), ""
    link = MessageLink(
        message_id=mail.message_id,
        channel="email",
        sender_role="agent",
        internal=False,
        author=mail.author,
        recipient=mail.to,
        delivery_status=status,
    )
    entry = TimelineEntry(
        "email_sent" if status == "sent" else "email_failed",
        mail.message_id,
        {"to": mail.to, "smtp_message_id": smtp_id, "detail": detail[:500]},
    )
    return Delivered([link], [entry])
