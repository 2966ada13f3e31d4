"""Tickets in relation to each other on the desk: merge this ticket into another."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for

from tempodesk.core.temporal import EngineUnavailable, MergeRefused, TicketNotFound
from tempodesk.tickets import relations
from web import db, release_db, runtime
from web.desk.common import REQUEST_ID, bp, current_actor
from web.i18n import gettext as _
from web.i18n import translate_message


@bp.route("/tickets/<number>/merge", methods=["POST"])
def merge(number: str) -> Any:
    """Merge this ticket into the one named in the form; the survivor's page follows."""
    actor = current_actor()
    request_id = request.form.get("request_id", "")
    try:
        ask = relations.merge_request(db(), actor, number, request.form.get("into", ""))
    except TicketNotFound:
        abort(404)
    except relations.MergeInvalid as exc:
        flash(translate_message(str(exc)), "error")
        return redirect(url_for("desk.ticket", number=number), 303)
    if ask is None:  # merged into that ticket already (sent twice)
        return redirect(url_for("desk.ticket", number=request.form.get("into", "").strip()), 303)
    release_db()
    try:
        runtime().temporal.merge_ticket(
            number,
            ask,
            f"merge-{actor.username}-{request_id}" if REQUEST_ID.match(request_id) else None,
        )
    except MergeRefused as exc:
        flash(translate_message(str(exc)), "error")
        return redirect(url_for("desk.ticket", number=number), 303)
    except EngineUnavailable:
        flash(_("The ticket engine did not answer in time."), "error")
        return redirect(url_for("desk.ticket", number=number), 303)
    flash(_("%(number)s is merged into this ticket.", number=number), "success")
    return redirect(url_for("desk.ticket", number=ask.into), 303)
