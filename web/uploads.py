"""Files sent with a form (its "attachments" input): the desk's actions and the portal's
replies read them here, checked (count, sizes, names, types) before anything is stored."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from tempodesk.tickets.actions import AttachmentTooLarge
from tempodesk.tickets.intake import AttachmentData
from web import runtime


def uploaded_files() -> list[AttachmentData]:
    """The form's files, checked; a file over the limit aborts the request with 413."""
    files = [
        AttachmentData(
            filename=upload.filename or "",
            content_type=upload.mimetype or "application/octet-stream",
            data=upload.read(),
        )
        for upload in request.files.getlist("attachments")
        if upload.filename
    ]
    try:
        return runtime().actions.check_attachments(files)
    except AttachmentTooLarge as exc:
        raise RequestEntityTooLarge(str(exc)) from None
