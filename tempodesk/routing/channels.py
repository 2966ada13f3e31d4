"""Channels of every kind (web, API, phone, walk-in, a mailbox's, a form's) as the admin
edits them: the label, and the three things new tickets from a channel take from it — the
owner (the cascade's second step), the group (their queue) and the process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core.limits import check
from tempodesk.core.models import Channel, Group, ProcessVersion, User


@dataclass
class ChannelForm:
    label: str = ""
    owner: str = ""
    group: str = ""
    process: str = ""


def form_of(channel: Channel) -> ChannelForm:
    return ChannelForm(
        channel.label, channel.owner or "", channel.group_name or "", channel.process_name or ""
    )


def save_channel(session: Session, channel: Channel, form: ChannelForm) -> dict[str, str]:
    """Store the form on ``channel``, or say what is wrong with each field."""
    errors = check({"label": (form.label.strip(), Channel.label)})
    names = (
        ("owner", form.owner, User.username, "There is no such agent."),
        ("group", form.group, Group.name, "There is no such group."),
        ("process", form.process, ProcessVersion.name, "There is no such process."),
    )
    for key, value, column, message in names:
        if value and session.scalar(select(column).where(column == value).limit(1)) is None:
            errors[key] = message
    if errors:
        return errors
    channel.label = form.label.strip()
    channel.owner = form.owner or None
    channel.group_name = form.group or None
    channel.process_name = form.process or None
    return {}
