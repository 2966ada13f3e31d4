"""What of a parsed mail a ticket keeps: its text (cut to a size a timeline shows), and the
parts that travel with the stored message (HTML, Message-ID, attachments)."""

from __future__ import annotations

from tempodesk.mail.parsing.parsed import ParsedMail
from tempodesk.tickets.intake import AttachmentData, EmailExtras

MAX_BODY = 90_000  # characters of text kept on the ticket; the raw message keeps everything


def body_text(mail: ParsedMail) -> str:
    text = mail.text.strip() or (
        "(no text; see the attachments)" if mail.attachments else "(no text)"
    )
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY] + "\n\n[… cut here: the full text is in the raw message]"
    return text


def extras_of(mail: ParsedMail, mailbox: str, inbound_id: int) -> EmailExtras:
    return EmailExtras(
        mailbox=mailbox,
        inbound_id=inbound_id,
        rfc_message_id=mail.message_id[:250],
        html=mail.html,
        attachments=[
            AttachmentData(a.filename, a.content_type[:200], a.data, a.inline, a.content_id)
            for a in mail.attachments
        ],
    )
