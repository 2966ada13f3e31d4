"""The admin page of tags: the curated list agents are offered, and whether only those may
be given (``tempodesk.tickets.tags``; audited there)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.tickets import tags
from web import db
from web.admin import bp
from web.i18n import gettext as _


@bp.route("/tags", methods=["GET", "POST"])
def tags_page() -> Any:
    if request.method == "POST":
        names = request.form.get("tags", "").replace("\n", ",")
        tags.save_curated(
            db(), names.split(","), request.form.get("only") == "on", actor=current_user.username
        )
        db().commit()
        flash(_("The tags are saved."), "success")
        return redirect(url_for("admin.tags_page"))
    return render_template(
        "admin/tags.html",
        curated=[t.name for t in tags.curated(db())],
        only=tags.only_curated(db()),
    )
