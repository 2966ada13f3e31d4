"""Admin pages for the quarantine: inbound mail that did not become a ticket (quarantined or
ignored), each message's headers and raw source, to reprocess or release as a ticket.

The raw source is shown as text, never rendered. Waiting on Temporal happens with the
database connection given back (``release_db``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from tempodesk.core.models import InboundMessage
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.mail import admin as mail_admin
from web import audit, db, release_db, runtime
from web.admin import bp
from web.i18n import gettext as _
from web.i18n import inbound_status


@bp.route("/quarantine")
def quarantine() -> Any:
    status = request.args.get("status", "quarantined")
    if status not in mail_admin.REVIEWABLE:
        status = "quarantined"
    mailbox = request.args.get("mailbox", "")
    before = request.args.get("before", type=int)
    limit = 100
    rows = mail_admin.inbound_page(db(), status=status, mailbox=mailbox, before=before, limit=limit)
    return render_template(
        "admin/mail/quarantine.html",
        rows=rows,
        status=status,
        mailbox=mailbox,
        statuses=mail_admin.REVIEWABLE,
        mailbox_names=[m.name for m in mail_admin.summaries(db())],
        older=rows[-1].id if len(rows) == limit else None,
    )


def _inbound(inbound_id: int) -> InboundMessage:
    found = db().get(InboundMessage, inbound_id)
    if found is None:
        abort(404)
    return found


@bp.route("/quarantine/<int:inbound_id>")
def quarantined(inbound_id: int) -> Any:
    message = _inbound(inbound_id)
    headers, problem = mail_admin.mail_headers(message.raw)
    return render_template(
        "admin/mail/message.html",
        message=message,
        headers=headers,
        problem=problem,
        actionable=message.status in mail_admin.ACTIONABLE,
    )


@bp.route("/quarantine/<int:inbound_id>/raw")
def quarantined_raw(inbound_id: int) -> Any:
    """The raw source as it arrived: text, never rendered."""
    response = make_response(_inbound(inbound_id).raw.decode("utf-8", "replace"))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="inbound-{inbound_id}.eml.txt"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.route("/quarantine/<int:inbound_id>/reprocess", methods=["POST"])
def quarantined_reprocess(inbound_id: int) -> Any:
    if _reviewable(inbound_id):
        release_db()
        try:
            outcome = runtime().inbound.reprocess(inbound_id)
        except EngineUnavailable:
            flash(
                _(
                    "The ticket engine is not answering, so the message was not reprocessed. "
                    "Nothing is lost: try again in a moment."
                ),
                "error",
            )
        else:
            text = _("Reprocessed: %(outcome)s", outcome=inbound_status(outcome.outcome))
            if outcome.ticket:
                text += f" ({outcome.ticket})"
            if outcome.reason:
                text += f" — {outcome.reason}"
            _audit("mail.reprocess", inbound_id, outcome)
            flash(text + ".", "error" if outcome.outcome == "quarantined" else "success")
    return redirect(url_for("admin.quarantined", inbound_id=inbound_id))


@bp.route("/quarantine/<int:inbound_id>/release", methods=["POST"])
def quarantined_release(inbound_id: int) -> Any:
    if _reviewable(inbound_id):
        release_db()
        try:
            outcome = runtime().inbound.release(inbound_id, current_user.username)
        except EngineUnavailable:
            flash(
                _(
                    "The ticket engine is not answering, so the message was not released. "
                    "Nothing is lost: try again in a moment."
                ),
                "error",
            )
        else:
            _audit("mail.release", inbound_id, outcome)
            number = outcome.ticket or ""
            link = url_for("desk.ticket", number=number)
            ticket_link = Markup('<a href="{}">{}</a>').format(link, number)
            flash(Markup(_("Released as ticket %(ticket)s.", ticket=ticket_link)), "success")
    return redirect(url_for("admin.quarantined", inbound_id=inbound_id))


def _audit(action: str, inbound_id: int, outcome: Any) -> None:
    """The inbound service committed the change itself; its entry follows it at once."""
    after = {"outcome": outcome.outcome, "ticket": outcome.ticket, "reason": outcome.reason}
    audit.record(action, object_type="inbound_message", object_id=inbound_id, after=after)
    db().commit()


def _reviewable(inbound_id: int) -> bool:
    message = _inbound(inbound_id)
    if message.status in mail_admin.ACTIONABLE:
        return True
    flash(
        _("This message is already handled (%(status)s).", status=inbound_status(message.status)),
        "error",
    )
    return False
