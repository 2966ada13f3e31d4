"""The admin area: processes (form and expert editors, versions, diagram, diff, migration),
templates, users and groups. Admins only; every form is CSRF-protected like the rest."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tempodesk.core.models import Channel, ProcessDraft, Ticket

# Aliased: ``processes`` in this package is the submodule web.admin.processes (imported below).
from tempodesk.tickets import processes as process_store
from web import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.route("/")
def index() -> Any:
    session = db()
    counts = {
        (name, version): count
        for name, version, count in session.execute(
            select(Ticket.process_name, Ticket.process_version, func.count())
            .where(Ticket.state_category != "closed")
            .group_by(Ticket.process_name, Ticket.process_version)
        )
    }
    rows = []
    for name in process_store.names(session):
        latest = process_store.latest(session, name)
        assert latest is not None
        rows.append(
            {
                "name": name,
                "label": process_store.definition(session, name, latest.version).label,
                "latest": latest.version,
                "draft": session.get(ProcessDraft, name) is not None,
                "open": {v: c for (n, v), c in counts.items() if n == name},
            }
        )
    published = {row["name"] for row in rows}
    unpublished = [n for n in process_store.draft_names(session) if n not in published]
    channels = list(session.scalars(select(Channel).order_by(Channel.name)))
    return render_template(
        "admin/index.html", processes=rows, unpublished=unpublished, channels=channels
    )


# The admin pages live in these modules; importing them registers their routes on ``bp``.
from web.admin import audit_log as _audit_log  # noqa: E402,F401
from web.admin import canned as _canned  # noqa: E402,F401
from web.admin import channels as _channels  # noqa: E402,F401
from web.admin import forms as _forms  # noqa: E402,F401
from web.admin import mailboxes as _mailboxes  # noqa: E402,F401
from web.admin import migrations as _migrations  # noqa: E402,F401
from web.admin import ops as _ops  # noqa: E402,F401
from web.admin import privacy as _privacy  # noqa: E402,F401
from web.admin import process_editors as _process_editors  # noqa: E402,F401
from web.admin import processes as _processes  # noqa: E402,F401
from web.admin import quarantine as _quarantine  # noqa: E402,F401
from web.admin import roles as _roles  # noqa: E402,F401
from web.admin import routing as _routing  # noqa: E402,F401
from web.admin import sla as _sla  # noqa: E402,F401
from web.admin import sms as _sms  # noqa: E402,F401
from web.admin import tags as _tags  # noqa: E402,F401
from web.admin import templates as _templates  # noqa: E402,F401
from web.admin import triggers as _triggers  # noqa: E402,F401
from web.admin import users as _users  # noqa: E402,F401
from web.admin import webhooks as _webhooks  # noqa: E402,F401
