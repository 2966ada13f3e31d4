"""The bundled email and SMS templates: their texts live in one YAML file per language, and
every template renders in every enabled language against a sample ticket.

The five languages the translators write (de, uk, lt, el, ru) fail here until their
``bundled/<lang>.yaml`` lands: that is the point (a language is enabled, so it must speak)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tempodesk.core.languages import LANGUAGES, parse_enabled
from tempodesk.core.settings import Settings
from tempodesk.messaging import templates
from tempodesk.messaging.sandbox import render
from tests.helpers import Stack

BUNDLED_DIR = Path(templates.__file__).parent / "bundled"
ENABLED = parse_enabled(Settings.model_fields["languages"].default)


def test_every_tempodesk_language_is_enabled_by_default() -> None:
    assert ENABLED == LANGUAGES


@pytest.mark.parametrize("language", ENABLED)
@pytest.mark.parametrize("name", sorted(templates.BUNDLED))
def test_bundled_template_renders_in_every_enabled_language(name: str, language: str) -> None:
    spec = templates.BUNDLED[name]
    assert language in spec["texts"], f"bundled/{language}.yaml has no {name}"
    subject, body = spec["texts"][language]
    context = templates.sample_context()
    assert templates.check_text(spec["channel"], subject, body, context) == []
    rendered = render(body, context)
    assert rendered.strip()
    assert "{{" not in rendered and "{%" not in rendered
    if spec["channel"] == "sms":
        assert subject == ""
    else:
        assert context["ticket"]["number"] in render(subject, context)


@pytest.mark.parametrize("path", sorted(BUNDLED_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_language_file_names_exactly_the_bundled_templates(path: Path) -> None:
    assert path.stem in LANGUAGES
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(data) == set(templates.BUNDLED)
    for name, text in data.items():
        assert set(text) == {"subject", "body"}, name
        # An email's body ends in a newline (as the code's texts did); an SMS's does not.
        channel = templates.BUNDLED[name]["channel"]
        assert text["body"].endswith("\n") == (channel == "email"), name


def test_english_texts_read_from_the_file_as_the_code_had_them() -> None:
    subject, body = templates.BUNDLED["ticket_received"]["texts"]["en"]
    assert subject == "[{{ ticket.number }}] We have your request"
    assert body.startswith("Hello {{ customer.name or 'there' }},\n\nthank you")
    assert body.endswith("{{ helpdesk.name }}\n")
    assert templates.BUNDLED["rate_answer"]["essential"] is False


def test_a_bundled_template_nobody_edited_gets_the_languages_added_since(stack: Stack) -> None:
    """An upgrade that brings a new language file fills it into bundled templates nobody
    edited; an admin's template is left as they keep it (all in one rolled-back session)."""
    with stack.sessions() as session:
        template = templates.get(session, "ticket_received")
        assert template is not None and template.updated_by == templates.BUNDLED_AUTHOR
        template.texts.remove(next(t for t in template.texts if t.language == "cs"))
        session.flush()
        templates.ensure_bundled(session)
        session.refresh(template)
        assert "cs" in {t.language for t in template.texts}

        template.updated_by = "alice"
        template.texts.remove(next(t for t in template.texts if t.language == "cs"))
        session.flush()
        templates.ensure_bundled(session)
        session.refresh(template)
        assert "cs" not in {t.language for t in template.texts}
        session.rollback()
