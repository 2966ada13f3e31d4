"""Web forms an admin configures per site (``/support/<slug>``), stored as reference data.

**(decision)** Each form is a channel of kind ``form`` (named ``form:<slug>``,
``core.ids.form_channel``): the process, group and owner of its channel choose a new ticket's
process and assignee by the channel rules every other way in uses (intake's ``_pin``,
the opening's ``choose_assignee``). The form row holds what only a form has: its fields,
language, confirmation, embedding origins, attachment limits and spam rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tempodesk.core import limits
from tempodesk.core.ids import form_channel
from tempodesk.core.models import Channel, Group, User, WebForm, utcnow
from tempodesk.messaging.templates import LANGUAGES
from tempodesk.tickets import processes
from tempodesk.tickets.form_fields import (
    SNIFFED,
    ContentRules,
    FileRules,
    FormField,
    field_problems,
    parse_origins,
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
#: Paths of the default form that no form may take.
RESERVED_SLUGS = frozenset({"new", "submitted", "embed"})


class FormInvalid(ValueError):
    """The admin's form cannot be saved; ``errors`` maps a field to a readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class FormSettings:
    """A form as the admin edits it (and as the public pages read it)."""

    slug: str
    title: str = ""
    intro: str = ""
    language: str = ""
    confirmation: str = ""
    embed_origins: str = ""
    internal: bool = False
    active: bool = True
    ask_order: bool = True
    max_attachment_bytes: int = 0
    attachment_types: str = ""
    max_links: int = 3
    blocked_words: str = ""
    process: str = ""  # "": the default process
    group: str = ""
    owner: str = ""
    fields: list[FormField] = field(default_factory=list)

    @property
    def origins(self) -> list[str]:
        return parse_origins(self.embed_origins)[0]

    @property
    def content_rules(self) -> ContentRules:
        words = tuple(w.strip() for w in self.blocked_words.splitlines() if w.strip())
        return ContentRules(max_links=self.max_links, blocked_words=words)

    @property
    def file_rules(self) -> FileRules:
        return FileRules(self.max_attachment_bytes, _types(self.attachment_types))

    @property
    def labels(self) -> dict[str, str]:
        return {spec.key: spec.label for spec in self.fields}


def _types(text: str) -> tuple[str, ...]:
    return tuple(t.strip().lstrip(".").lower() for t in re.split(r"[\s,;]+", text) if t.strip())


def _settings(form: WebForm) -> FormSettings:
    channel = form.channel
    return FormSettings(
        slug=form.slug,
        title=form.title,
        intro=form.intro,
        language=form.language,
        confirmation=form.confirmation,
        embed_origins=form.embed_origins,
        internal=form.internal,
        active=form.active,
        ask_order=form.ask_order,
        max_attachment_bytes=form.max_attachment_bytes,
        attachment_types=form.attachment_types,
        max_links=form.max_links,
        blocked_words=form.blocked_words,
        process=channel.process_name or "",
        group=channel.group_name or "",
        owner=channel.owner or "",
        fields=[FormField.from_dict(d) for d in form.fields or []],
    )


def find(session: Session, slug: str, *, active_only: bool = True) -> FormSettings | None:
    """The form at ``/support/<slug>`` (an inactive one only for the admin)."""
    form = session.scalar(select(WebForm).where(WebForm.slug == slug))
    if form is None or (active_only and not form.active):
        return None
    return _settings(form)


def all_forms(session: Session) -> list[FormSettings]:
    return [_settings(f) for f in session.scalars(select(WebForm).order_by(WebForm.slug))]


def labels(session: Session, slug: str | None) -> dict[str, str]:
    """The labels of a form's fields by key (a ticket's page shows its fields with them)."""
    if not slug:
        return {}
    form = find(session, slug, active_only=False)
    return form.labels if form else {}


def problems(
    session: Session, data: FormSettings, *, max_attachment_bytes: int, editing: str | None
) -> dict[str, str]:
    """Every problem of the admin's form, by field name."""
    errors = field_problems(data.fields)
    if editing is not None and data.slug != editing:
        errors["slug"] = "A form's address stays (its tickets name it)."
    elif not SLUG.match(data.slug) or data.slug in RESERVED_SLUGS:
        errors["slug"] = "Use a-z, 0-9 and - (at most 48); not new, submitted or embed."
    elif data.slug != editing and session.scalar(
        select(WebForm.id).where(WebForm.slug == data.slug)
    ):
        errors["slug"] = "Another form has this address."
    if not data.title.strip():
        errors["title"] = "Enter a name."
    if data.language and data.language not in LANGUAGES:
        errors["language"] = f"Use one of: {', '.join(LANGUAGES)}."
    bad = parse_origins(data.embed_origins)[1]
    if bad:
        errors["embed_origins"] = f"Not an origin like https://shop.example.com: {bad[0]}"
    if data.internal and data.origins:
        errors["embed_origins"] = "An internal form cannot be embedded in another site."
    if not 0 <= data.max_attachment_bytes <= max_attachment_bytes:
        errors["max_attachment_bytes"] = f"Use 0 to {max_attachment_bytes}."
    unknown = [t for t in _types(data.attachment_types) if t not in SNIFFED]
    if unknown:
        errors["attachment_types"] = f"Use some of: {', '.join(SNIFFED)}."
    if not 0 <= data.max_links <= 100:
        errors["max_links"] = "Use 0 to 100."
    if data.process and data.process not in processes.names(session):
        errors["process"] = f"There is no process '{data.process}'."
    if data.group and session.scalar(select(Group.id).where(Group.name == data.group)) is None:
        errors["group"] = "Choose a group."
    if data.owner and session.scalar(select(User.id).where(User.username == data.owner)) is None:
        errors["owner"] = "Choose an agent."
    columns = ("title", "intro", "confirmation", "embed_origins", "blocked_words")
    texts = {name: (getattr(data, name), getattr(WebForm, name)) for name in columns}
    return limits.check(texts) | errors


def save(
    session: Session, data: FormSettings, *, max_attachment_bytes: int, editing: str | None = None
) -> None:
    """Create the form (``editing`` None) or change the form at ``editing`` (its address
    stays: tickets name their form by it). Raises FormInvalid."""
    errors = problems(session, data, max_attachment_bytes=max_attachment_bytes, editing=editing)
    if errors:
        raise FormInvalid(errors)
    form = (
        session.scalar(select(WebForm).where(WebForm.slug == editing)) if editing else None
    ) or WebForm(channel=Channel(name=form_channel(data.slug), kind="form"))
    channel = form.channel
    channel.name = form_channel(data.slug)
    channel.label = data.title.strip()
    channel.process_name = data.process or None
    channel.group_name = data.group or None
    channel.owner = data.owner or None
    values: dict[str, Any] = {
        "slug": data.slug,
        "title": data.title.strip(),
        "intro": data.intro,
        "language": data.language,
        "confirmation": data.confirmation,
        "embed_origins": "\n".join(data.origins),
        "internal": data.internal,
        "active": data.active,
        "ask_order": data.ask_order,
        "max_attachment_bytes": data.max_attachment_bytes,
        "attachment_types": ", ".join(_types(data.attachment_types)),
        "max_links": data.max_links,
        "blocked_words": data.blocked_words,
        "fields": [spec.to_dict() for spec in data.fields],
        "updated_at": utcnow(),
    }
    for name, value in values.items():
        setattr(form, name, value)
    session.add(form)
    session.flush()


def set_active(session: Session, slug: str, active: bool) -> bool:
    """Deactivate (or bring back) a form: its page answers 404 while it is inactive."""
    form = session.scalar(select(WebForm).where(WebForm.slug == slug))
    if form is None:
        return False
    form.active = active
    form.updated_at = utcnow()
    return True
