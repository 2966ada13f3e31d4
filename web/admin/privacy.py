"""Admin page for personal data (GDPR): export everything about a person as a zip, forget a
person (anonymise or delete). The rules live in ``tempodesk.privacy``."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from tempodesk.core.limits import too_long
from tempodesk.core.models import Contact
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.privacy.export import export_person
from tempodesk.privacy.forget import MODES, Mode, forget_everywhere
from tempodesk.privacy.subjects import digest, normalise
from web import audit, db, runtime
from web.admin import bp
from web.i18n import gettext as _


def _address() -> str:
    address = normalise(request.form.get("email", ""))
    if "@" not in address or too_long(address, Contact.email):
        return ""
    return address


@bp.route("/privacy")
def privacy() -> Any:
    return render_template("admin/privacy.html", modes=MODES)


@bp.route("/privacy/export", methods=["POST"])
def privacy_export() -> Any:
    address = _address()
    if not address:
        flash(_("Enter an email address."), "error")
        return redirect(url_for("admin.privacy"))
    data, subject = export_person(db(), address, now=datetime.now(UTC))
    audit.record(
        "gdpr.export",
        object_type="person",
        object_id=digest(address),
        after={"tickets": len(subject.tickets)},
    )
    db().commit()
    name = "gdpr-" + address.replace("@", "_at_") + ".zip"
    return send_file(
        io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name
    )


@bp.route("/privacy/forget", methods=["POST"])
def privacy_forget() -> Any:
    address = _address()
    mode = request.form.get("mode", "")
    if not address or mode not in MODES:
        flash(_("Enter an email address and choose what to do."), "error")
        return redirect(url_for("admin.privacy"))
    if normalise(request.form.get("confirm", "")) != address:
        flash(_("Type the address again to confirm."), "error")
        return redirect(url_for("admin.privacy"))
    chosen: Mode = "delete" if mode == "delete" else "anonymise"
    services = runtime()
    try:
        done, _runs = forget_everywhere(
            services.sessions,
            address,
            chosen,
            services.temporal.delete_workflows,
            actor=current_user.username,
            actor_kind="agent",
            address=request.remote_addr or "",
        )
    except EngineUnavailable:
        flash(_("The ticket engine is unavailable; nothing was forgotten."), "error")
        return redirect(url_for("admin.privacy"))
    flash(_("Forgotten: %(count)d tickets.", count=len(done.tickets)), "success")
    return redirect(url_for("admin.privacy"))
