"""Admin templates render in a sandbox: hostile ones fail safely, with a readable reason."""

from __future__ import annotations

import time

import pytest

from tempodesk.messaging.sandbox import Fields, TemplateProblem, render
from tempodesk.messaging.templates import referenced_fields, sample_context

CANARY = "SSTI-CANARY"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (
            "{{ ''.__class__ }}",
            "Not allowed: access to attribute '__class__' of 'str' object is unsafe.",
        ),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "Not allowed"),
        ("{{ ''|attr('__class__') }}", "Not allowed"),
        ("{{ '{0.__class__}'.format(1) }}", "Not allowed"),
        ("{{ ticket.__init__.__globals__ }}", "Not allowed"),
        ("{{ config }}", "Unknown variable: 'config' is undefined"),
        ("{{ lipsum.__globals__ }}", "Unknown variable: 'lipsum' is undefined"),
        ("{{ cycler.__init__.__globals__.os }}", "Not allowed"),
        ("{{ 'A' * 10**9 }}", "Not allowed: Repeating text that many times is not allowed."),
        ("{{ 9 ** 99999 }}", "Not allowed: The exponent is too large."),
        (
            "{{ range(10**8)|list }}",
            "Not allowed: A range of more than 10000 items is not allowed.",
        ),
        ("{% include '/etc/passwd' %}", "The template failed"),
        ("{% extends 'base.html' %}", "The template failed"),
        ("{% import 'os' as os %}", "The template failed"),
        ("{{ ticket.numbr }}", "Unknown variable: 'dict object' has no attribute 'numbr'"),
        ("{% if %}", "Line 1: Expected an expression"),
    ],
)
def test_hostile_or_broken_templates_fail_with_a_reason(source: str, reason: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        render(f"{CANARY}{source}", sample_context())
    assert str(caught.value).startswith(reason)
    assert CANARY not in str(caught.value)


def test_runaway_loops_stop_within_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as caught:
        render(
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
            sample_context(),
            max_seconds=0.5,
        )
    assert str(caught.value) == "Rendering took longer than 0.5 s."
    assert time.monotonic() - started < 5


def test_output_is_capped() -> None:
    with pytest.raises(TemplateProblem) as caught:
        render(
            "{% for i in range(10000) %}{{ ticket.subject }}{% endfor %}",
            sample_context(),
            max_chars=1000,
        )
    assert str(caught.value) == "The output is longer than 1000 characters."


def test_customer_text_is_data_never_a_template() -> None:
    context = sample_context()
    context["ticket"]["subject"] = "{{ 7*7 }} {% for x in range(3) %}x{% endfor %}"
    assert (
        render("Re: {{ ticket.subject }}", context)
        == "Re: {{ 7*7 }} {% for x in range(3) %}x{% endfor %}"
    )


def test_html_templates_escape_customer_text() -> None:
    context = sample_context()
    context["customer"]["name"] = "<script>alert(1)</script>"
    assert render("<p>{{ customer.name }}</p>", context, html=True) == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )


def test_fields_nobody_set_render_empty() -> None:
    context = sample_context()
    context["ticket"]["fields"] = Fields({"repair_price": "900 CZK"})
    assert (
        render("{{ ticket.fields.repair_price }}|{{ ticket.fields.nothing }}|", context)
        == "900 CZK||"
    )


def test_the_fields_a_template_reads_are_found() -> None:
    source = (
        "{{ ticket.fields.repair_price }} {{ ticket.fields['tracking_number'] }} "
        "{{ action.fields.x }}"
    )
    assert referenced_fields(source) == {"repair_price", "tracking_number"}
