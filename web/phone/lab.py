"""The Phone lab (admins, where ``TEMPODESK_PHONE_LAB`` is on: `make dev`): ring an agent's
extension as a test caller, answer and hang up the calls of the stand-in PBX, over AMI."""

from __future__ import annotations

import asyncio
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from tempodesk.core.models import CommRecord, User
from tempodesk.telephony import ami, calls, pbx
from web import db, runtime
from web.i18n import gettext as _
from web.phone.common import bp, is_admin


def _lab_or_404() -> None:
    settings = runtime().settings
    if not (settings.phone_lab and settings.pbx == "ami" and is_admin()):
        abort(404)


def _act(name: str, **fields: str) -> str:
    """Send one AMI action to the PBX; "" when done, else why not."""
    try:
        asyncio.run(ami.send_action(pbx.ami_config(runtime().settings), name, **fields))
    except (OSError, ami.AmiError, pbx.NoPbx, TimeoutError, ConnectionError) as exc:
        return str(exc) or type(exc).__name__
    return ""


@bp.route("/lab", methods=["GET", "POST"])
def lab() -> Any:
    _lab_or_404()
    if request.method == "POST":
        extension = request.form.get("extension", "")
        caller = request.form.get("caller", "")
        problem = _act("LabRing", Extension=extension[:32], CallerID=caller[:32])
        if problem:
            flash(_("The PBX did not ring: %(reason)s", reason=problem), "error")
        else:
            flash(_("Extension %(extension)s rings.", extension=extension), "success")
        return redirect(url_for("phone.lab"))
    agents = db().scalars(select(User).where(User.extension.is_not(None)).order_by(User.extension))
    live = db().scalars(
        select(CommRecord)
        .where(CommRecord.kind == "call", CommRecord.status.in_(calls.LIVE))
        .order_by(CommRecord.id.desc())
        .limit(20)
    )
    return render_template("phone/lab.html", agents=list(agents), live=list(live))


@bp.route("/lab/calls/<int:record_id>/<step>", methods=["POST"])
def lab_step(record_id: int, step: str) -> Any:
    _lab_or_404()
    record = db().get(CommRecord, record_id)
    if record is None or not record.call_key or step not in ("answer", "hangup"):
        abort(404)
    name = "LabAnswer" if step == "answer" else "Hangup"
    problem = _act(name, Uniqueid=record.call_key)
    if problem:
        flash(_("The PBX did not do it: %(reason)s", reason=problem), "error")
    return redirect(url_for("phone.lab"))
