"""Process texts in several languages: a label may be one string or a mapping of language ->
text; the string it is known by (the English, else the first) keeps the workflow and the
projection as they were, and definitions written with strings read and write as before."""

from __future__ import annotations

import json

import pytest
import yaml

from statemachines import (
    DefinitionError,
    bundled,
    from_json,
    in_language,
    language_warnings,
    parse_definition,
)


def multilingual() -> dict:
    data: dict = yaml.safe_load(bundled("support"))
    data["label"] = {"en": "Support", "de": "Support", "cs": "Podpora"}
    data["states"]["new"]["label"] = {"de": "Neu", "en": "New", "uk": "Нова"}
    data["states"]["new"]["customer_label"] = {"en": "Received", "de": "Eingegangen"}
    spam = data["actions"]["mark_spam"]
    spam["label"] = {"cs": "Označit jako spam", "de": "Als Spam markieren"}
    spam["confirm"] = {"en": "Move this ticket to spam?", "de": "In den Spam verschieben?"}
    field = data["actions"]["reply"]["fields"][0]
    field["label"] = {"en": "Reply", "el": "Απάντηση"}
    return data


def test_a_label_in_several_languages_is_known_by_its_english_else_its_first_text() -> None:
    definition = parse_definition(multilingual())
    new = definition.state("new")
    assert new.label == "New" and dict(new.labels)["uk"] == "Нова"
    assert new.customer_label == "Received"
    spam = definition.action("mark_spam")
    assert spam is not None and spam.label == "Označit jako spam"  # no English: the first
    assert spam.confirm == "Move this ticket to spam?"
    assert definition.label == "Support"


def test_the_viewer_reads_the_first_language_of_the_chain_the_text_has() -> None:
    new = parse_definition(multilingual()).state("new")
    assert in_language(new.label, new.labels, ("de", "en")) == "Neu"
    assert in_language(new.label, new.labels, ("lt", "cs", "en")) == "New"
    assert in_language(new.label, new.labels, ("lt", "ru")) == "New"  # its own string


def test_a_multilingual_definition_writes_itself_back_and_reads_the_same() -> None:
    definition = parse_definition(multilingual())
    document = definition.to_document()
    assert document["states"]["new"]["label"] == {"de": "Neu", "en": "New", "uk": "Нова"}
    assert document["actions"]["mark_spam"]["confirm"]["de"] == "In den Spam verschieben?"
    assert from_json(definition.to_json()) == definition


@pytest.mark.parametrize("name", ["support", "returns"])
def test_a_definition_written_with_strings_pins_the_same_json_as_before(name: str) -> None:
    """Old published (and pinned) definitions carry strings: no mapping appears, so the
    workflows' inputs and histories are what they were."""
    definition = parse_definition(yaml.safe_load(bundled(name)))
    assert '"labels"' not in definition.to_json()
    document = json.loads(definition.to_json())
    for state in document["states"].values():
        assert isinstance(state["label"], str)
    assert from_json(definition.to_json()).to_json() == definition.to_json()


def test_a_mapping_that_is_not_languages_to_texts_is_a_located_problem() -> None:
    data = yaml.safe_load(bundled("support"))
    data["states"]["new"]["label"] = {"english": "New"}
    data["actions"]["mark_spam"]["label"] = {"de": ""}
    data["states"]["open"]["label"] = {}
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data)
    found = [str(p) for p in caught.value.problems]
    assert "states.new.label: 'english' is not a language code (like en, cs, de)." in found
    assert "actions.mark_spam.label: The text in 'de' must be non-empty text." in found
    assert "states.open.label: This must be text, or a mapping of language codes to texts." in found


def test_a_choice_labelled_by_a_number_stays_its_text() -> None:
    data = yaml.safe_load(bundled("support"))
    data["actions"]["reply"]["fields"].append(
        {"id": "grade", "type": "select", "choices": [{"value": "one", "label": 1}]}
    )
    spec = parse_definition(data).action("reply").field("grade")  # type: ignore[union-attr]
    assert spec is not None and spec.choices[0].label == "1"


def test_the_validator_warns_about_enabled_languages_a_mapping_lacks() -> None:
    definition = parse_definition(multilingual())
    warnings = [str(w) for w in language_warnings(definition, ("en", "de", "cs"))]
    assert "states.new.label: No text in cs." in warnings
    assert "states.new.customer_label: No text in cs." in warnings
    assert "actions.mark_spam.label: No text in en." in warnings
    assert "actions.reply.fields[0].label: No text in de, cs." in warnings
    assert not any(w.startswith("label:") for w in warnings)  # it has all three
    assert not any(w.startswith("states.open") for w in warnings)  # one string: the catalog's


def test_a_definition_of_strings_has_no_language_warnings() -> None:
    definition = parse_definition(yaml.safe_load(bundled("support")))
    assert language_warnings(definition, ("en", "cs", "de", "uk", "lt", "el", "ru")) == []
