"""Canned answers: ready texts agents insert into a reply or a note with one click.

A canned answer's body is a template like the email templates: it may use the documented
variables of ``tempodesk.messaging.templates.VARIABLES`` and renders in the sandbox of
``tempodesk.messaging.sandbox`` against the ticket being answered (the agent is the one
inserting it).
Bodies are checked against the sample ticket when saved, so a hostile or broken body never
reaches an agent. Each answer is shared with everyone, with chosen groups, or personal (one
agent); an agent only ever sees (and may only render) the answers shared with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tempodesk.contracts import Actor
from tempodesk.core.models import CannedAnswer, Group, Ticket, User, utcnow
from tempodesk.core.settings import Settings
from tempodesk.messaging import templates
from tempodesk.messaging.sandbox import render

SHARING = {
    "everyone": "Everyone",
    "groups": "Chosen groups",
    "personal": "One agent (personal)",
}
RENDER_SECONDS = 1.0  # an agent waits for it: fail fast
MAX_BODY_CHARS = 20_000


class CannedInvalid(ValueError):
    """The answer cannot be saved; ``errors`` maps a form field to a readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class CannedData:
    """What an admin sets on a canned answer."""

    title: str = ""
    body: str = ""
    language: str = "en"
    sharing: str = "everyone"  # everyone | groups | personal
    groups: list[str] = field(default_factory=list)
    owner: str = ""  # the agent of a personal answer


def data_of(answer: CannedAnswer) -> CannedData:
    sharing = "personal" if answer.owner else ("groups" if answer.groups else "everyone")
    return CannedData(
        title=answer.title,
        body=answer.body,
        language=answer.language,
        sharing=sharing,
        groups=list(answer.groups or []),
        owner=answer.owner or "",
    )


def all_answers(session: Session) -> list[CannedAnswer]:
    """Every canned answer (the admin list)."""
    return list(session.scalars(select(CannedAnswer).order_by(CannedAnswer.title)))


def shared_with(answer: CannedAnswer, actor: Actor) -> bool:
    """Is the answer shared with this agent? (Personal, one of their groups, or everyone.)"""
    if answer.owner is not None:
        return answer.owner == actor.username
    groups = answer.groups or []
    return not groups or bool(set(groups) & set(actor.groups))


def visible_to(session: Session, actor: Actor) -> list[CannedAnswer]:
    """The answers this agent may insert, by title."""
    candidates = session.scalars(
        select(CannedAnswer)
        .where(or_(CannedAnswer.owner.is_(None), CannedAnswer.owner == actor.username))
        .order_by(CannedAnswer.title, CannedAnswer.id)
    )
    return [a for a in candidates if shared_with(a, actor)]


def get_visible(session: Session, actor: Actor, answer_id: int) -> CannedAnswer | None:
    answer = session.get(CannedAnswer, answer_id)
    return answer if answer is not None and shared_with(answer, actor) else None


def check(session: Session, data: CannedData) -> dict[str, str]:
    """Every problem of the input, per form field (the body rendered against the sample)."""
    errors: dict[str, str] = {}
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > 200:
        errors["title"] = "At most 200 characters."
    if not data.body.strip():
        errors["body"] = "Enter the text."
    elif len(data.body) > MAX_BODY_CHARS:
        errors["body"] = f"At most {MAX_BODY_CHARS} characters."
    else:
        # The subject is not part of a canned answer: a constant stands in for it.
        problems = templates.check_text("email", "canned", data.body, templates.sample_context())
        body_problems = [p.message for p in problems if p.part == "body"]
        if body_problems:
            errors["body"] = " ".join(body_problems)
    if data.language not in templates.LANGUAGES:
        errors["language"] = f"Use one of {', '.join(templates.LANGUAGES)}."
    if data.sharing not in SHARING:
        errors["sharing"] = "Choose who sees it."
    elif data.sharing == "groups":
        known = set(session.scalars(select(Group.name).where(Group.name.in_(data.groups))))
        unknown = [g for g in data.groups if g not in known]
        if not data.groups:
            errors["groups"] = "Choose at least one group."
        elif unknown:
            errors["groups"] = f"There is no group {', '.join(repr(g) for g in unknown)}."
    elif data.sharing == "personal":
        owner = session.scalar(
            select(User.id).where(User.username == data.owner).where(User.is_active.is_(True))
        )
        if owner is None:
            errors["owner"] = "Choose the agent it belongs to."
    return errors


def save(
    session: Session, data: CannedData, *, author: str, answer: CannedAnswer | None = None
) -> CannedAnswer:
    """Create (or update) a canned answer after checking all of it; CannedInvalid if bad."""
    errors = check(session, data)
    if errors:
        raise CannedInvalid(errors)
    if answer is None:
        answer = CannedAnswer(title="")
        session.add(answer)
    answer.title = " ".join(data.title.split())
    answer.body = data.body.replace("\r\n", "\n")
    answer.language = data.language
    answer.owner = data.owner if data.sharing == "personal" else None
    answer.groups = sorted(set(data.groups)) if data.sharing == "groups" else []
    answer.updated_at = utcnow()
    answer.updated_by = author
    session.flush()
    return answer


def render_for_ticket(
    session: Session, body: str, ticket: Ticket, *, settings: Settings, agent: User
) -> str:
    """The text rendered in the sandbox against this ticket (the inserting agent as
    ``agent``); raises ``tempodesk.messaging.sandbox.TemplateProblem`` if it cannot render."""
    context = templates.ticket_context(
        session,
        ticket,
        public_url=settings.public_url,
        helpdesk_name=settings.mail_from_name,
        agent=agent,
    )
    return render(body, context, max_seconds=RENDER_SECONDS)


def render_template_for_ticket(
    session: Session, name: str, ticket: Ticket, *, settings: Settings, agent: User
) -> str | None:
    """An email template's body for this ticket, in the customer's language (None: no such
    email template); TemplateProblem if it cannot render."""
    template = templates.get(session, name)
    if template is None or template.channel != "email":
        return None
    language = ticket.contact.language if ticket.contact else "en"
    text = template.text(language)
    if text is None:
        return None
    return render_for_ticket(session, text.body, ticket, settings=settings, agent=agent)


def email_templates(session: Session) -> list[tuple[str, str]]:
    """(name, description) of the email templates an agent may insert."""
    return [
        (t.name, t.description)
        for t in templates.all_templates(session)
        if t.channel == "email" and t.texts
    ]
