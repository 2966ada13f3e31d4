"""Admin: the template editor (checks shown where they apply), its live preview, revisions."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from tempodesk.core.models import TemplateRevision
from tempodesk.messaging import templates
from tests.helpers import Stack, csrf_token

HOSTILE = [
    "{{ ''.__class__.__mro__ }}",
    "{{ 'A' * 10**9 }}",
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{{ config }}",
    "{{ lipsum.__globals__ }}",
    # Issue 10 item 4: each built a string or number of any size in one C call.
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'|center(10**9) }}",
    "{{ '{:>1000000000}'.format(1) }}",
    "{{ '%1000000000s'|format(1) }}",
    "{{ (9**1000)**1000 }}",
    "{{ range(10**9)|list }}",
]
# What leaks look like: Python object reprs, a config, a module's globals, a huge string.
LEAKS = ("<class", "<function", "<module", "<Config", "__builtins__", "object at 0x", "AAAAAAAAAA")


def _name() -> str:
    return f"t_{uuid.uuid4().hex[:8]}"


def _form(client: FlaskClient, url: str, **fields: str) -> Any:
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **fields})


def _meta_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF meta tag"
    return match.group(1)


def _preview(client: FlaskClient, **payload: str) -> Any:
    token = _meta_token(client.get("/admin/templates/new").get_data(as_text=True))
    body = {"channel": "email", "language": "en", "subject": "", "body": "", **payload}
    return client.post("/admin/templates/new/preview", json=body, headers={"X-CSRFToken": token})


def _section(html: str, language: str) -> str:
    """The editor's part for one language (its fieldset)."""
    start = html.index(f'data-language="{language}"')
    return html[start : html.index("</fieldset>", start)]


def test_admin_saves_a_template_in_two_languages_and_sees_it_listed(stack: Stack) -> None:
    client = stack.login("admin")
    name = _name()
    response = _form(
        client,
        "/admin/templates/new",
        name=name,
        channel="email",
        description="Tells the customer we called",
        subject_en="[{{ ticket.number }}] We called you",
        body_en="Hello {{ customer.name or 'there' }},\r\nwe tried to call you.\r\n",
        subject_cs="[{{ ticket.number }}] Volali jsme vám",
        body_cs="Dobrý den,\r\nvolali jsme vám.\r\n",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/templates/{name}")

    listing = client.get("/admin/templates").get_data(as_text=True)
    row = listing[listing.index(f"<code>{name}</code>") :]
    row = row[: row.index("</tr>")]
    assert "Tells the customer we called" in row
    assert ">en<" in row and ">cs<" in row and "admin" in row
    with stack.sessions() as session:
        saved = templates.get(session, name)
        assert saved is not None and saved.updated_by == "admin"
        assert {t.language: t.body for t in saved.texts} == {
            "en": "Hello {{ customer.name or 'there' }},\nwe tried to call you.\n",
            "cs": "Dobrý den,\nvolali jsme vám.\n",
        }
    editor = client.get(f"/admin/templates/{name}").get_data(as_text=True)
    assert "Volali jsme vám" in editor and "ticket.customer_state_label" in editor


@pytest.mark.parametrize(
    ("fields", "language", "message"),
    [
        (
            {"subject_cs": "Ahoj", "body_cs": "Hello {{ ticket.number "},
            "cs",
            "Line 1: unexpected end of template, expected 'end of print statement'.",
        ),
        (
            {"subject_en": "Hi", "body_en": "Hello {{ ticket.nope }}"},
            "en",
            "Unknown variable: 'dict object' has no attribute 'nope'",
        ),
        ({"subject_en": "", "body_en": "Hello"}, "en", "An email needs a subject."),
        (
            {"channel": "sms", "body_cs": "x" * (templates.SMS_MAX_CHARS + 1)},
            "cs",
            f"An SMS may be at most {templates.SMS_MAX_CHARS} characters.",
        ),
    ],
    ids=["syntax", "unknown-variable", "email-without-subject", "sms-too-long"],
)
def test_each_check_problem_is_shown_next_to_its_language_with_its_exact_text(
    stack: Stack, fields: dict[str, str], language: str, message: str
) -> None:
    client = stack.login("admin")
    name = _name()
    response = _form(client, "/admin/templates/new", name=name, **{"channel": "email", **fields})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert str(escape(message)) in _section(html, language)
    other = "en" if language == "cs" else "cs"
    assert str(escape(message)) not in _section(html, other)
    with stack.sessions() as session:
        assert templates.get(session, name) is None


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_template_bodies_are_refused_at_save_with_a_readable_error(
    stack: Stack, payload: str
) -> None:
    client = stack.login("admin")
    name = _name()
    response = _form(
        client, "/admin/templates/new", name=name, channel="email", subject_en="Hi", body_en=payload
    )
    assert response.status_code == 422
    section = _section(response.get_data(as_text=True), "en")
    errors = re.findall(r'<p class="field-error" role="alert">([^<]*)</p>', section)
    assert errors, section
    assert errors[0].startswith(("Not allowed: ", "Unknown variable: ", "Rendering took longer"))
    for leak in LEAKS:
        assert leak not in section
    with stack.sessions() as session:
        assert templates.get(session, name) is None


@pytest.mark.parametrize("payload", HOSTILE)
def test_the_preview_answers_hostile_templates_with_an_error_and_no_object(
    stack: Stack, payload: str
) -> None:
    response = _preview(stack.login("admin"), subject="Hi", body=payload)
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {"error", "part"} and data["part"] == "body"
    assert data["error"].startswith(("Not allowed: ", "Unknown variable: ", "Rendering took"))
    text = response.get_data(as_text=True)
    for leak in (*LEAKS, "49"):
        assert leak not in text


@pytest.mark.parametrize("payload", HOSTILE[5:])
def test_the_preview_answers_size_bombs_within_its_time_limit(stack: Stack, payload: str) -> None:
    client = stack.login("admin")
    _preview(client, subject="Hi", body="warm")  # the render child is started once per process
    started = time.monotonic()
    response = _preview(client, subject="Hi", body=payload)
    assert time.monotonic() - started < templates.PREVIEW_SECONDS
    assert response.get_json()["error"].startswith("Not allowed: ")


def test_a_normal_template_previews_as_before(stack: Stack) -> None:
    response = _preview(
        stack.login("admin"),
        subject="[{{ ticket.number }}] {{ '%-6s'|format(order.status) }}|",
        body="{% for item in order.items %}{{ '{:>3}'.format(item.qty) }} {{ item.name }}"
        "{% endfor %}\n{{ 'x'.ljust(3) }}|{{ 2 ** 10 }}",
    )
    assert response.get_json() == {
        "subject": "[HD-2026-000123] shipped|",
        "body": "  1 Electric kettlex  |1024",
    }


def test_customer_text_in_a_ticket_renders_literally_in_the_preview(stack: Stack) -> None:
    created = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "{{ 7*7 }}",
            "body": "{% for x in range(10) %}{{ x }}{% endfor %}",
            "customer": {"email": "curly@example.com", "name": "{{ config }}"},
        },
        headers=stack.api(),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    number = created.get_json()["number"]
    client = stack.login("admin")

    data = _preview(
        client,
        ticket=number,
        subject="[{{ ticket.number }}] {{ ticket.subject }}",
        body="{{ ticket.subject }} / {{ customer.name }} / {{ 7*7 }}",
    ).get_json()
    assert data == {
        "subject": f"[{number}] {{{{ 7*7 }}}}",
        "body": "{{ 7*7 }} / {{ config }} / 49",  # only the admin's own expression is evaluated
    }


def test_the_preview_uses_the_sample_ticket_without_a_number_and_refuses_an_unknown_one(
    stack: Stack,
) -> None:
    client = stack.login("admin")
    sample = _preview(client, subject="{{ ticket.number }}", body="{{ customer.name }}")
    assert sample.get_json() == {"subject": "HD-2026-000123", "body": "Jana Nováková"}
    sms = _preview(client, channel="sms", subject="ignored {{ nope }}", body="{{ ticket.group }}")
    assert sms.get_json() == {"subject": "", "body": "Support"}
    unknown = _preview(client, ticket="HD-1999-999999", subject="x", body="y")
    assert unknown.get_json() == {"error": "No ticket HD-1999-999999.", "part": ""}


def test_the_preview_needs_the_csrf_token(stack: Stack) -> None:
    response = stack.login("admin").post(
        "/admin/templates/new/preview", json={"channel": "email", "body": "x"}
    )
    assert response.status_code == 400


def test_every_saved_change_writes_one_revision_per_language_changed(stack: Stack) -> None:
    client = stack.login("admin")
    name = _name()
    first = {"channel": "email", "subject_en": "One", "body_en": "First", "description": "d"}
    assert _form(client, "/admin/templates/new", name=name, **first).status_code == 302
    url = f"/admin/templates/{name}"
    both = {**first, "subject_cs": "Jedna", "body_cs": "První"}
    assert _form(client, url, **both).status_code == 302  # cs added, en unchanged
    assert _form(client, url, **both).status_code == 302  # nothing changed
    assert _form(client, url, **{**both, "body_en": "Second"}).status_code == 302

    with stack.sessions() as session:
        rows = session.scalars(
            select(TemplateRevision)
            .where(TemplateRevision.template_name == name)
            .order_by(TemplateRevision.id)
        ).all()
    assert [(r.language, r.body, r.author) for r in rows] == [
        ("en", "First", "admin"),
        ("cs", "První", "admin"),
        ("en", "Second", "admin"),
    ]
    history = client.get(url).get_data(as_text=True)
    history = history[history.index('id="revisions-title"') :]
    assert history.count("<tr>") == 1 + 3  # the head and one row per revision
    assert "Čeština (cs)" in history and "English (en)" in history


def test_agents_get_403_on_the_template_pages_and_the_preview(stack: Stack) -> None:
    client = stack.login("agent1")
    assert client.get("/admin/templates").status_code == 403
    assert client.get("/admin/templates/new").status_code == 403
    assert client.get("/admin/templates/ticket_received").status_code == 403
    token = csrf_token(client.get("/desk/").get_data(as_text=True))
    saved = client.post(
        "/admin/templates/ticket_received",
        data={"csrf_token": token, "channel": "email", "subject_en": "x", "body_en": "pwned"},
    )
    assert saved.status_code == 403
    preview = client.post(
        "/admin/templates/new/preview",
        json={"channel": "email", "body": "{{ ticket.subject }}"},
        headers={"X-CSRFToken": token},
    )
    assert preview.status_code == 403
    with stack.sessions() as session:
        bundled = templates.get(session, "ticket_received")
        assert bundled is not None and "pwned" not in [t.body for t in bundled.texts]


def test_a_template_is_essential_unless_the_admin_marks_it_non_essential(stack: Stack) -> None:
    client = stack.login("admin")
    name = _name()
    fields = {"name": name, "channel": "email", "subject_en": "News", "body_en": "Our news"}
    assert _form(client, "/admin/templates/new", **fields).status_code == 302
    with stack.sessions() as session:
        saved = templates.get(session, name)
        assert saved is not None and saved.essential
    url = f"/admin/templates/{name}"
    edited = _form(client, url, channel="email", subject_en="News", body_en="x", non_essential="on")
    assert edited.status_code == 302
    with stack.sessions() as session:
        saved = templates.get(session, name)
        assert saved is not None and not saved.essential
    assert 'name="non_essential" value="on" checked' in client.get(url).get_data(as_text=True)
