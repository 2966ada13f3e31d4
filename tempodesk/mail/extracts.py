"""What of a parsed mail a ticket keeps: its text (cut to a size a timeline shows), and the
parts that travel with the stored message (HTML, Message-ID, attachments)."""

from __future__ import annotations

from tempodesk.core.db import fit, fit_id
from tempodesk.core.models import Attachment, Message
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
    """The mail's parts, each fitted to the column it is stored in: an id too long for its
    column keeps its head and gets a hash of the whole (``fit_id``), so a reply naming it
    still finds it; a value no column could hold never fails the whole mail."""
    return EmailExtras(
        mailbox=mailbox,
        inbound_id=inbound_id,
        rfc_message_id=fit_id(Message.smtp_message_id, mail.message_id),
        html=mail.html,
        attachments=[
            AttachmentData(
                fit(Attachment.filename, a.filename),
                fit(Attachment.content_type, a.content_type),
                a.data,
                a.inline,
                fit_id(Attachment.content_id, a.content_id) if a.content_id else a.content_id,
            )
            for a in mail.attachments
        ],
    )
