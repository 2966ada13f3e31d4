"""Admin: edit a channel of any kind (web, API, phone, walk-in, email, form): its label, owner,
group and process. The rules live in ``tempodesk.routing.channels``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from tempodesk.core.models import Channel, Group, User
from tempodesk.routing.channels import ChannelForm, form_of, save_channel
from tempodesk.tickets import processes
from web import db
from web.admin import bp
from web.i18n import gettext as _


@bp.route("/channels/<name>", methods=["GET", "POST"])
def channel_edit(name: str) -> Any:
    session = db()
    channel = session.scalar(select(Channel).where(Channel.name == name))
    if channel is None:
        abort(404)
    form, errors = form_of(channel), {}
    if request.method == "POST":
        form = ChannelForm(
            **{k: request.form.get(k, "") for k in ("label", "owner", "group", "process")}
        )
        errors = save_channel(session, channel, form)
        if not errors:
            session.commit()
            flash(_("The channel is saved."), "success")
            return redirect(url_for("admin.index"))
        session.rollback()
    return (
        render_template(
            "admin/channel.html",
            channel=channel,
            form=form,
            errors=errors,
            agents=list(
                session.scalars(select(User.username).where(User.is_active).order_by("username"))
            ),
            groups=list(session.scalars(select(Group.name).order_by(Group.name))),
            processes=processes.names(session),
        ),
        422 if errors else 200,
    )
