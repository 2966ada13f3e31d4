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


# Each builds a string, number or list of any size in one C call unless the sandbox bounds it
# (issue 10 item 4); the limits are far above what wording needs.
BOMBS = [
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'.rjust(10**9) }}",
    "{{ 'x'.center(10**9) }}",
    "{{ '1'.zfill(10**9) }}",
    "{{ '\\t'.expandtabs(10**9) }}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'a\\nb'|indent(10**9) }}",
    "{{ 'a b'|wordwrap(10**9) }}",
    "{{ '{:>1000000000}'.format(1) }}",
    "{{ '{:>{w}}'.format(1, w=10**9) }}",
    "{{ '{:.1000000000f}'.format(1.5) }}",
    "{{ '{x:>1000000000}'.format_map({'x': 1}) }}",
    "{{ '%1000000000s'|format(1) }}",
    "{{ '%1000000000s' % 1 }}",
    "{{ '%*s' % (10**9, 1) }}",
    "{{ '%.1000000000f' % 1.5 }}",
    "{{ (9**1000)**1000 }}",
    "{{ (2**999)**100 * (2**999)**100 }}",
    "{% macro sq(x, n) %}{{ sq(x * x, n - 1) if n else x }}{% endmacro %}{{ sq(99, 40) }}",
    "{{ range(10**9)|list }}",
    "{{ [1]|batch(10**9, 0)|list }}",
    "{{ [1]|slice(10**9)|list }}",
    "{{ ('a' * 10000)|replace('a', 'b' * 10000) }}",
    "{{ ('a' * 10000).replace('a', 'b' * 10000) }}",
]


@pytest.mark.parametrize("source", BOMBS)
def test_size_bombs_end_in_a_clear_error_within_the_limit(source: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as caught:
        render(f"{CANARY}{source}", sample_context(), max_seconds=1.0)
    assert time.monotonic() - started < 1.5
    assert str(caught.value).startswith("Not allowed: ")
    assert CANARY not in str(caught.value)


def test_widths_and_powers_a_template_needs_still_work() -> None:
    source = (
        "{{ 'x'.ljust(5) }}|{{ 'x'|center(5) }}|{{ '{:>5}'.format(1) }}|{{ '%5s'|format(1) }}|"
        "{{ '%05.1f' % 2.25 }}|{{ 2 ** 10 }}|{{ '7'.zfill(3) }}|{{ 'a b c'|wordwrap(3) }}"
    )
    assert render(source, sample_context()) == "x    |  x  |    1|    1|002.2|1024|007|a b\nc"


def test_a_template_that_eats_memory_ends_in_a_clear_error() -> None:
    # 10,000 x 10,000 characters, then a list of each of them: no single step is clamped.
    source = "{{ (('ab' * 5000)|list|join('x' * 10000))|list|length }}"
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as caught:
        render(source, sample_context(), max_seconds=2.0)
    assert time.monotonic() - started < 3.0
    assert str(caught.value) in (
        "The template needs too much memory.",
        "Rendering took longer than 2 s.",
    )


def test_a_normal_template_renders_identically_in_text_and_html() -> None:
    context = sample_context()
    context["customer"]["name"] = "Jana <Nováková> & co"
    source = (
        "Hello {{ customer.name }},\n{% for item in order.items %}- {{ item.qty }} x "
        "{{ item.name }}\n{% endfor %}{{ ticket.fields.nothing }}{{ ticket.number }}\n"
    )
    assert render(source, context) == (
        "Hello Jana <Nováková> & co,\n- 1 x Electric kettle\nHD-2026-000123\n"
    )
    assert render(source, context, html=True) == (
        "Hello Jana &lt;Nováková&gt; &amp; co,\n- 1 x Electric kettle\nHD-2026-000123\n"
    )
