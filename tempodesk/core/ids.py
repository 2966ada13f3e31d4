"""Every id format Tempodesk makes, in one place: workflow ids, Update ids, idempotency keys
of stored messages, and the Message-IDs of the mail we send.

Pure and deterministic (workflow code imports this module through the sandbox): no clock,
no randomness, no I/O. Changing a format changes what a retry finds, so each is stable.
"""

from __future__ import annotations


def ticket_workflow_id(number: str) -> str:
    """One workflow per ticket, for all its runs (a reopened ticket is a new run of it)."""
    return f"ticket-{number}"


def mailbox_workflow_id(name: str) -> str:
    return f"mailbox-{name}"


def migration_workflow_id(migration_id: int) -> str:
    return f"process-migration-{migration_id}"


def webhook_workflow_id(subscription_id: int) -> str:
    """One delivery workflow per webhook subscription (a run ends when nothing waits)."""
    return f"webhook-{subscription_id}"


def create_update_id(number: str) -> str:
    """The ``confirm_created`` Update sent with the start: a retried creation joins it."""
    return f"create-{number}"


def migrate_update_id(migration_id: int) -> str:
    """The ``migrate_process`` Update of one migration: sent twice, it is performed once."""
    return f"migration-{migration_id}"


# Idempotency keys: what makes a retried request find what the first one stored.
#: Keys are stored in ``messages.idempotency_key`` (VARCHAR(200)).
KEY_MAX = 200


def api_key(user_id: int, endpoint: str, key: str) -> str:
    """A key an API client sent, scoped to its user and the endpoint ("tickets", "messages"):
    another user's key, or the same key sent to another endpoint, never collides."""
    return f"api:{user_id}:{endpoint}:{key}"


def web_form_key(submission: str) -> str:
    """The public form: a UUID put in the form when it was shown (a double submit files one)."""
    return f"web:{submission}"


def form_channel(slug: str) -> str:
    """The channel of the web form at ``/support/<slug>`` (its process, group and owner)."""
    return f"form:{slug}"


def portal_reply_key(contact_id: int, submission: str) -> str:
    """A customer's reply from the portal: a nonce put in the form when it was shown, scoped
    to the signed-in contact (a double submit sends one message)."""
    return f"portal:{contact_id}:{submission}"


def rating_key(number: str, submission: str) -> str:
    """A rating's comment (from the mailed link or the portal): a nonce put in the form when
    it was shown, scoped to the ticket (a double submit stores one comment)."""
    return f"rating:{number}:{submission}"[:KEY_MAX]


def desk_entry_key(agent: str, submission: str) -> str:
    """An agent's "New ticket" form, likewise."""
    return f"desk:{agent}:{submission}"


def inbound_key(inbound_id: int) -> str:
    """The message a stored inbound mail opens a new ticket with: once per mail."""
    return f"inbound:{inbound_id}"


def follow_up_key(inbound_id: int) -> str:
    """The message a stored inbound mail adds to an existing ticket: once per mail."""
    return f"inbound:{inbound_id}:follow-up"


def template_key(number: str, event_seq: int, effect_index: int, address: str) -> str:
    """A template rendered for one recipient by one effect of one event: stored once."""
    return f"tpl:{number}:{event_seq}:{effect_index}:{address.lower()}"[:KEY_MAX]


def reply_message_id(number: str, event_seq: int, message_id: int, domain: str) -> str:
    """The RFC 5322 Message-ID of a reply: the same on every retry, so it is sent once."""
    return f"<{number}.{event_seq}.{message_id}@{domain}>"


def notice_message_id(
    number: str, event_seq: int, effect_index: int, message_id: int, domain: str
) -> str:
    """The Message-ID of a template mail (one per effect and recipient)."""
    return f"<{number}.{event_seq}.e{effect_index}.{message_id}@{domain}>"


def sms_send_key(number: str, event_seq: int, message_id: int, to: str) -> str:
    """The idempotency key an SMS goes to its provider under (ticket, event, message,
    recipient): the same on every retry, so a provider that honours keys sends it once."""
    return f"sms-{number}-{event_seq}-{message_id}-{to.lstrip('+')}"[:KEY_MAX]


def sms_inbound_key(provider: str, message_id: str) -> str:
    """An SMS a provider delivered to us: the same provider message id is one message."""
    return f"sms-in:{provider}:{message_id}"[:KEY_MAX]
