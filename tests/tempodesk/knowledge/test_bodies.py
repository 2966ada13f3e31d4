"""Article bodies: the allowlist, the size cap, the child for large bodies, plain text."""

from __future__ import annotations

import pytest

from tempodesk.knowledge import bodies
from tempodesk.knowledge.common import slugify


def test_allowlist_keeps_formatting_and_drops_script_styles_and_images() -> None:
    clean = bodies.sanitize(
        '<h2 style="x">Title</h2><p onclick="x">A <b>bold</b> <a href="https://a.example">'
        'link</a> <a href="/help/en/other">other</a> <a href="//evil.example">scheme</a> '
        '<a href="javascript:alert(1)">js</a></p><img src="https://t.example/pixel.gif">'
        "<script>alert(1)</script><style>p{}</style><ul><li>one</li></ul>"
    )
    assert clean == (
        '<h2>Title</h2><p>A <b>bold</b> <a href="https://a.example" rel="noopener noreferrer '
        'nofollow">link</a> <a href="/help/en/other" rel="noopener noreferrer nofollow">other</a>'
        ' <a rel="noopener noreferrer nofollow">scheme</a> <a rel="noopener noreferrer '
        'nofollow">js</a></p><ul><li>one</li></ul>'
    )


def test_a_body_over_the_cap_is_refused() -> None:
    with pytest.raises(bodies.BodyRefused):
        bodies.sanitize("<p>" + "a" * bodies.MAX_BODY_CHARS + "</p>")


def test_a_large_body_is_sanitised_in_the_child_like_a_small_one() -> None:
    paragraph = "<p>Descale <b>the</b> kettle<script>x()</script></p>"
    large = paragraph * (bodies.IN_PROCESS_CHARS // len(paragraph) + 10)
    assert len(large) > bodies.IN_PROCESS_CHARS
    assert bodies.sanitize(large) == bodies.clean(large).strip()
    assert "script" not in bodies.sanitize(large)


def test_plain_text_keeps_paragraphs_lists_and_link_addresses() -> None:
    text = bodies.plain_text(
        "<h2>Return</h2><p>Within <b>30</b> days &amp; free.</p><ol><li>Write</li><li>Pack"
        '</li></ol><p>See <a href="https://x.example/r">the form</a>.</p>'
    )
    assert text == (
        "Return\n\nWithin 30 days & free.\n\n- Write\n- Pack\n\nSee the form (https://x.example/r)."
    )


def test_slugs_are_made_from_titles_without_diacritics() -> None:
    assert slugify("Jak vrátit zboží?") == "jak-vratit-zbozi"
    assert slugify("<script>") == "script"
    assert slugify("  ") == ""
