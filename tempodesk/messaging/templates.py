"""Email and SMS templates: storage, the variables they may use, checks, and rendering.

A template renders against a *context* of plain data built here (never ORM objects), in the
sandbox of ``tempodesk.messaging.sandbox``. The same context is built for the live preview in the
admin UI, for the checks at save/publish time (against a sample ticket), and for sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from statemachines import PRIORITIES, ProcessDefinition
from tempodesk.core.db import aware
from tempodesk.core.languages import LANGUAGES
from tempodesk.core.models import (
    Contact,
    MessageTemplate,
    Order,
    TemplateRevision,
    TemplateText,
    Ticket,
    User,
    utcnow,
)
from tempodesk.messaging.sandbox import Fields, TemplateProblem, check_syntax, render

CHANNELS = ("email", "sms")
SMS_MAX_CHARS = 480  # three concatenated GSM-7 segments

#: What a template may use, documented in the editor.
VARIABLES: list[tuple[str, str]] = [
    ("ticket.number", "The ticket number, e.g. HD-2026-000123"),
    ("ticket.subject", "The subject of the request"),
    ("ticket.state_label", "The state as agents see it"),
    ("ticket.customer_state_label", "The state as the customer sees it"),
    ("ticket.priority_label", "Low, Normal, High or Urgent"),
    ("ticket.assignee", "Username of the assignee (empty if none)"),
    ("ticket.group", "The group the ticket is assigned to"),
    ("ticket.channel", "web, api, email, phone or walk_in"),
    ("ticket.created_at", "When the ticket was created (UTC)"),
    ("ticket.url", "The ticket on the agent desk"),
    ("ticket.fields.<name>", "A field stored on the ticket by a set_field effect"),
    ("customer.name / customer.email / customer.phone", "The customer"),
    ("order.number / order.status / order.total / order.items", "The linked order, if any"),
    ("agent.name / agent.username", "The agent who pressed the action (or the assignee)"),
    ("action.label / action.fields.<id>", "The action that sent the template and its fields"),
    ("message.body", "The reply text, for portal replies"),
    ("portal_link", "Where the customer reads the ticket in the portal"),
    (
        "rating.url / rating.links (each: score, url)",
        "Where the customer rates the answer (set by an ask_rating effect), one link per score",
    ),
    ("helpdesk.name", "The name of the helpdesk (the sender name)"),
    ("unsubscribe_url", "Where the customer refuses non-essential mail (one click)"),
]


@dataclass
class TemplateCheck:
    language: str
    part: str  # subject | body
    message: str


def sample_context(definition: ProcessDefinition | None = None) -> dict[str, Any]:
    """A made-up ticket with every variable filled, to check templates against."""
    fields = (
        Fields({name: f"<{name}>" for name in sorted(definition.fields_set())})
        if definition
        else Fields()
    )
    return {
        "ticket": {
            "number": "HD-2026-000123",
            "subject": "The kettle stopped heating",
            "state": "open",
            "state_label": "Open",
            "customer_state_label": "In progress",
            "priority": 2,
            "priority_label": "Normal",
            "assignee": "agent1",
            "group": "Support",
            "channel": "web",
            "created_at": "2026-11-23 10:00 UTC",
            "url": "https://desk.example.com/desk/tickets/HD-2026-000123",
            "fields": fields,
        },
        "customer": {
            "name": "Jana Nováková",
            "email": "jana@example.com",
            "phone": "+420605111222",
        },
        "order": {
            "number": "ORD-1001",
            "status": "shipped",
            "total": "1 290 CZK",
            "items": [{"sku": "KETTLE-2", "name": "Electric kettle", "qty": 1}],
        },
        "agent": {"username": "agent1", "name": "Alice Agent"},
        "action": {"id": "reply", "label": "Reply", "fields": Fields()},
        "message": {"body": "We are sending you a new kettle today."},
        "portal_link": "https://desk.example.com/portal/tickets/HD-2026-000123",
        "rating": {
            "url": "https://desk.example.com/rate/SAMPLE",
            "links": [
                {"score": n, "url": f"https://desk.example.com/rate/SAMPLE?score={n}"}
                for n in range(1, 6)
            ],
        },
        "helpdesk": {"name": "Tempodesk Support"},
        "unsubscribe_url": "https://desk.example.com/support/unsubscribe/SAMPLE",
    }


def ticket_context(
    session: Session,
    ticket: Ticket,
    *,
    public_url: str,
    helpdesk_name: str,
    agent: User | None = None,
    action: dict[str, Any] | None = None,
    message_body: str = "",
    customer_state_label: str = "",
    rating: dict[str, Any] | None = None,
    unsubscribe_url: str = "",
) -> dict[str, Any]:
    """The context for rendering a template about a real ticket (plain data only)."""
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    order = session.get(Order, ticket.order_id) if ticket.order_id else None
    created = aware(ticket.created_at)
    return {
        "ticket": {
            "number": ticket.number,
            "subject": ticket.subject,
            "state": ticket.state,
            "state_label": ticket.state_label,
            "customer_state_label": customer_state_label or ticket.state_label,
            "priority": ticket.priority,
            "priority_label": PRIORITIES.get(ticket.priority, str(ticket.priority)),
            "assignee": ticket.assignee or "",
            "group": ticket.group_name or "",
            "channel": ticket.channel,
            "created_at": created.strftime("%Y-%m-%d %H:%M UTC") if created else "",
            "url": f"{public_url}/desk/tickets/{ticket.number}",
            "fields": Fields(ticket.fields or {}),
        },
        "customer": {
            "name": (contact.name if contact else "") or ticket.customer_name,
            "email": (contact.email if contact else None) or ticket.customer_email,
            "phone": (contact.phone if contact else None) or "",
        },
        "order": {
            "number": order.number,
            "status": order.status,
            "total": order.total,
            "items": list(order.items or []),
        }
        if order
        else None,
        "agent": {"username": agent.username, "name": agent.label}
        if agent
        else {"username": "", "name": ""},
        "action": {
            "id": (action or {}).get("id", ""),
            "label": (action or {}).get("label", ""),
            "fields": Fields((action or {}).get("fields", {})),
        },
        "message": {"body": message_body},
        "portal_link": f"{public_url}/portal/tickets/{ticket.number}",
        "rating": rating or {"url": "", "links": []},
        "helpdesk": {"name": helpdesk_name},
        "unsubscribe_url": unsubscribe_url,
    }


_PARSER = ImmutableSandboxedEnvironment()


def referenced_fields(source: str) -> set[str]:
    """Ticket fields a template reads (``ticket.fields.x`` or ``ticket.fields['x']``)."""
    try:
        tree = _PARSER.parse(source)
    except Exception:
        return set()
    found = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        inner = node.node
        is_fields = (
            isinstance(inner, nodes.Getattr)
            and inner.attr == "fields"
            and isinstance(inner.node, nodes.Name)
            and inner.node.name == "ticket"
        )
        if not is_fields:
            continue
        if isinstance(node, nodes.Getattr):
            found.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.add(node.arg.value)
    return found


def check_text(
    channel: str, subject: str, body: str, context: dict[str, Any]
) -> list[TemplateCheck]:
    """Problems of one language's text: syntax, rendering against ``context``, SMS length."""
    problems = []
    for part, source in (("subject", subject), ("body", body)):
        if part == "subject" and channel == "sms":
            continue
        try:
            check_syntax(source)
            rendered = render(source, context)
        except TemplateProblem as exc:
            problems.append(TemplateCheck("", part, str(exc)))
            continue
        if part == "subject" and "\n" in rendered.strip():
            problems.append(TemplateCheck("", part, "A subject must be a single line."))
        if part == "body" and channel == "sms" and len(rendered) > SMS_MAX_CHARS:
            problems.append(
                TemplateCheck("", part, f"An SMS may be at most {SMS_MAX_CHARS} characters.")
            )
    if channel == "email" and not subject.strip():
        problems.append(TemplateCheck("", "subject", "An email needs a subject."))
    if not body.strip():
        problems.append(TemplateCheck("", "body", "The text is empty."))
    return problems


def all_templates(session: Session) -> list[MessageTemplate]:
    return list(
        session.scalars(
            select(MessageTemplate)
            .options(selectinload(MessageTemplate.texts))
            .order_by(MessageTemplate.name)
        )
    )


def get(session: Session, name: str) -> MessageTemplate | None:
    return session.scalar(
        select(MessageTemplate)
        .where(MessageTemplate.name == name)
        .options(selectinload(MessageTemplate.texts))
    )


def revisions(session: Session, name: str) -> list[TemplateRevision]:
    """A template's saved changes, newest first."""
    return list(
        session.scalars(
            select(TemplateRevision)
            .where(TemplateRevision.template_name == name)
            .order_by(TemplateRevision.id.desc())
        )
    )


class TemplateInvalid(ValueError):
    def __init__(self, problems: list[TemplateCheck]):
        self.problems = problems
        super().__init__("; ".join(f"{p.language} {p.part}: {p.message}" for p in problems))


def save(
    session: Session,
    name: str,
    *,
    channel: str,
    description: str,
    texts: dict[str, tuple[str, str]],
    author: str,
    essential: bool = True,
) -> MessageTemplate:
    """Create or update a template; every language is checked first; every change is logged."""
    import re

    problems: list[TemplateCheck] = []
    if not re.match(r"^[a-z][a-z0-9_]{0,63}$", name):
        problems.append(TemplateCheck("", "name", "Use a-z, 0-9 and _, starting with a letter."))
    if channel not in CHANNELS:
        problems.append(TemplateCheck("", "channel", "Use email or sms."))
    if not texts:
        problems.append(TemplateCheck("", "body", "Give the text in at least one language."))
    for language, (subject, body) in texts.items():
        if language not in LANGUAGES:
            problems.append(
                TemplateCheck(language, "language", f"Use one of {', '.join(LANGUAGES)}.")
            )
            continue
        for problem in check_text(channel, subject, body, sample_context()):
            problem.language = language
            problems.append(problem)
    if problems:
        raise TemplateInvalid(problems)
    template = get(session, name)
    if template is None:
        template = MessageTemplate(name=name)
        session.add(template)
    template.channel = channel
    template.description = description
    template.essential = essential
    template.updated_at = utcnow()
    template.updated_by = author
    existing = {t.language: t for t in template.texts}
    for language, (subject, body) in texts.items():
        text = existing.get(language)
        if text is None:
            template.texts.append(TemplateText(language=language, subject=subject, body=body))
        elif (text.subject, text.body) == (subject, body):
            continue
        else:
            text.subject, text.body = subject, body
        session.add(
            TemplateRevision(
                template_name=name, language=language, subject=subject, body=body, author=author
            )
        )
    for language, text in existing.items():
        if language not in texts:
            template.texts.remove(text)
    session.flush()
    return template


def render_template(
    template: MessageTemplate, language: str, context: dict[str, Any], default: str = "en"
) -> tuple[str, str]:
    """(subject, body) in the language asked for (else the helpdesk's ``default``, else
    English, else any); TemplateProblem if it cannot render."""
    text = template.text(language, default)
    if text is None:
        raise TemplateProblem(f"The template '{template.name}' has no text.")
    subject = " ".join(render(text.subject, context).split()) if template.channel == "email" else ""
    body = render(text.body, context)
    return subject, body


PREVIEW_SECONDS = 1.0  # the editor asks on every pause in typing: fail fast


class PreviewProblem(TemplateProblem):
    """A preview that cannot be shown; ``part`` (subject | body) says where, if anywhere."""

    def __init__(self, message: str, part: str = ""):
        super().__init__(message)
        self.part = part


def preview(
    session: Session,
    *,
    channel: str,
    subject: str,
    body: str,
    ticket_number: str = "",
    public_url: str,
    helpdesk_name: str,
    agent: User | None = None,
) -> tuple[str, str]:
    """Render text being edited, as it would be sent, against a real ticket (or the sample
    ticket when no number is given); PreviewProblem with a readable message if it cannot."""
    if channel not in CHANNELS:
        raise PreviewProblem("Use email or sms.")
    number = ticket_number.strip()
    if number:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is None:
            raise PreviewProblem(f"No ticket {number}.")
        context = ticket_context(
            session, ticket, public_url=public_url, helpdesk_name=helpdesk_name, agent=agent
        )
    else:
        context = sample_context()
    parts = {"subject": subject if channel == "email" else "", "body": body}
    rendered = {}
    for part, source in parts.items():
        try:
            rendered[part] = render(source, context, max_seconds=PREVIEW_SECONDS)
        except TemplateProblem as exc:
            raise PreviewProblem(str(exc), part) from None
    return " ".join(rendered["subject"].split()), rendered["body"]


#: The bundled templates: what each is for stays here, its texts live in ``bundled/<lang>.yaml``
#: (name -> subject and body; translators add a language by adding a file).
BUNDLED_SPECS: dict[str, dict[str, Any]] = {
    "ticket_received": {
        "channel": "email",
        "description": "Tells the customer their request arrived (never quotes it).",
    },
    "assigned_to_you": {
        "channel": "email",
        "description": "Tells an agent a ticket was assigned to them.",
    },
    "portal_reply": {
        "channel": "email",
        "description": "Tells the customer there is a reply to read in the portal (no text).",
    },
    "rate_answer": {
        "channel": "email",
        "essential": False,
        "description": "Asks the customer to rate the answer (the ask_rating effect).",
    },
    "closed_no_answer": {
        "channel": "email",
        "description": "Tells the customer a ticket was closed after waiting for them.",
    },
    "repair_quote": {
        "channel": "email",
        "description": "Returns and repairs: the price of a repair, to be paid before work starts.",
    },
    "parcel_received": {
        "channel": "email",
        "description": "Returns and repairs: the parcel arrived at the workshop.",
    },
    "missed_call": {
        "channel": "sms",
        "description": "Calls: we tried to call the customer twice (the support process).",
    },
}


def bundled_texts() -> dict[str, dict[str, tuple[str, str]]]:
    """Every bundled template's (subject, body) per language, from each ``<lang>.yaml``
    present for a language Tempodesk speaks (package data, so an installed copy has them)."""
    folder = resources.files("tempodesk.messaging") / "bundled"
    found: dict[str, dict[str, tuple[str, str]]] = {name: {} for name in BUNDLED_SPECS}
    for language in LANGUAGES:
        source = folder / f"{language}.yaml"
        if not source.is_file():
            continue
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        for name, text in data.items():
            if name in found:
                found[name][language] = (str(text.get("subject") or ""), str(text["body"]))
    return found


_TEXTS = bundled_texts()
BUNDLED: dict[str, dict[str, Any]] = {
    name: {**spec, "texts": _TEXTS[name]} for name, spec in BUNDLED_SPECS.items()
}
BUNDLED_AUTHOR = "tempodesk"


def ensure_bundled(session: Session) -> None:
    """Create the bundled templates that do not exist, and give one nobody has edited the
    languages added since (never overwrite an admin's edit)."""
    for name, spec in BUNDLED.items():
        template = get(session, name)
        texts = spec["texts"]
        if template is not None:
            if template.updated_by != BUNDLED_AUTHOR:
                continue
            have = {t.language: (t.subject, t.body) for t in template.texts}
            if set(texts) <= set(have):
                continue
            texts = {**texts, **have}
        save(
            session,
            name,
            channel=spec["channel"],
            description=spec["description"],
            texts=texts,
            author=BUNDLED_AUTHOR,
            essential=spec.get("essential", True),
        )
