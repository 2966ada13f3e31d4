"""A web form's rules (pure): its field list, the values sent, spam, origins and files."""

from __future__ import annotations

import pytest

from statemachines import FieldErrors
from tempodesk.tickets.form_fields import (
    ContentRules,
    FileRules,
    FormField,
    clean_values,
    content_problem,
    field_problems,
    file_problem,
    parse_origins,
    sniff,
)


def test_field_keys_must_not_take_a_built_in_key_or_repeat() -> None:
    problems = field_problems(
        [
            FormField("email", "Email"),
            FormField("size", "Size"),
            FormField("size", "Size again"),
            FormField("Bad Key", "Bad"),
            FormField("kind", "Kind", "select"),
        ]
    )
    assert problems["fields-0-key"] == "This key belongs to the form itself; choose another."
    assert problems["fields-2-key"] == "Each field needs its own key."
    assert "fields-3-key" in problems
    assert problems["fields-4-key"].startswith("This key belongs")


def test_a_select_needs_choices_and_a_type_must_be_known() -> None:
    problems = field_problems([FormField("size", "Size", "select"), FormField("x", "X", "file")])
    assert problems["fields-0-choices"] == "Give the choices, one per line."
    assert problems["fields-1-type"].startswith("Use one of:")


def test_values_are_checked_by_type_and_unknown_keys_are_ignored() -> None:
    fields = [
        FormField("size", "Size", "select", choices=("S", "M")),
        FormField("count", "Count", "number"),
        FormField("when", "When", "date"),
        FormField("copy", "Copy to", "email"),
        FormField("gift", "Gift", "checkbox"),
    ]
    clean = clean_values(
        fields,
        {"size": "M", "count": "2", "when": "2026-12-24", "copy": "a@example.com", "x": "1"},
    )
    assert clean == {"size": "M", "count": 2, "when": "2026-12-24", "copy": "a@example.com"}
    with pytest.raises(FieldErrors) as refused:
        clean_values(fields, {"size": "XXL", "count": "two", "when": "2026-02-30", "copy": "no"})
    assert refused.value.errors == {
        "size": "Choose one of the offered values.",
        "count": "Enter a number.",
        "when": "Enter a real date as YYYY-MM-DD.",
        "copy": "Enter a valid email address.",
    }


def test_content_checks_count_links_find_blocked_words_and_bare_links() -> None:
    rules = ContentRules(max_links=1, blocked_words=("viagra",))
    assert content_problem(rules, ["Hello", "My kettle is broken"]) is None
    assert content_problem(rules, ["", "http://a.example www.b.example"]) is not None
    assert content_problem(rules, ["Cheap ViAgRa", "text"]) == "Your request could not be sent."
    assert content_problem(rules, ["Look", "  https://a.example/x  "]) is not None


def test_origins_are_scheme_host_and_port_only() -> None:
    valid, invalid = parse_origins(
        "https://shop.example.com\nhttps://b2b.example.com:8443/\nhttp://localhost:8000\n"
        "http://shop.example.com\nhttps://shop.example.com/path\n*\n"
        "https://a.example.com 'unsafe-inline'\njavascript:alert(1)"
    )
    assert valid == [
        "https://shop.example.com",
        "https://b2b.example.com:8443",
        "http://localhost:8000",
    ]
    assert len(invalid) == 5


def test_files_are_checked_by_size_extension_and_content() -> None:
    rules = FileRules(max_bytes=100, types=("pdf", "png", "txt"))
    assert file_problem(rules, "a.pdf", b"%PDF-1.7 tiny") is None
    assert file_problem(rules, "notes.txt", "Příliš žluťoučký".encode()) is None
    assert file_problem(rules, "a.pdf", b"%PDF-" + b"x" * 200) is not None
    assert file_problem(rules, "a.exe", b"MZ") is not None
    assert file_problem(rules, "a.png", b"%PDF-1.7") == "'a.png' is not what its name says."
    assert file_problem(FileRules(), "a.pdf", b"%PDF-") == "This form takes no files."


def test_sniffing_tells_binary_from_text() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert sniff(b"plain text") == "text/plain"
    assert sniff(b"\x00\x01\x02") == "application/octet-stream"
    assert sniff("é".encode() * 2048 + b"\xc3") == "text/plain"  # a character cut at 4096
