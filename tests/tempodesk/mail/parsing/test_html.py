"""tempodesk.mail.parsing.html and .sanitizer: the HTML allowlist and its time budget."""

from __future__ import annotations

import time

import pytest

from tempodesk.mail import HTML_TOO_COMPLEX, HTML_TOO_LARGE, parse, sanitize_html
from tests.tempodesk.mail.parsing.messages import ALTERNATIVE, eml

XSS = [
    "<script>alert('XSS')</script>",
    "<img src=x onerror=alert('XSS')>",
    "<a href=\"javascript:alert('XSS')\">x</a>",
    "<a href=\"JaVaScRiPt:alert('XSS')\">x</a>",
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<svg onload=alert('XSS')><circle/></svg>",
    '<base href="https://evil.example/">',
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example/"><input name=p></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<img src="https://tracker.example/pixel.gif" width="1" height="1">',
    '<p style="background:url(https://evil.example/)">styled</p>',
    "<style>body{background:url(https://evil.example/)}</style>",
    '<body onload="alert(1)">',
    '<div onmouseover="alert(1)">hover</div>',
    '<math><maction xlink:href="javascript:alert(1)">m</maction></math>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<scr<script>ipt>alert(1)</script>",
    '<a href="https://ok.example/" onclick="alert(1)">ok</a>',
]


INERT_MARKERS = (
    "<script", "onerror", "onload", "onclick", "onmouseover", "javascript:", "vbscript:",
    "<base", "<iframe", "<object", "<embed", "<form", "<meta", "style=", "<style", "<svg",
    "<math", "tracker.example", "evil.example", "data:text", "data:image/svg",
)  # fmt: skip


@pytest.mark.parametrize("payload", XSS)
def test_hostile_html_is_inert_after_sanitize_html(payload: str) -> None:
    cleaned = sanitize_html(payload).lower()
    for marker in INERT_MARKERS:
        assert marker not in cleaned, (payload, cleaned)


def test_script_and_style_content_is_removed_not_shown() -> None:
    assert sanitize_html("<script>alert(1)</script><style>p{}</style><p>ok</p>") == "<p>ok</p>"


def test_links_keep_http_https_mailto_with_rel() -> None:
    cleaned = sanitize_html(
        '<a href="https://a.example/x">a</a><a href="http://b.example/">b</a>'
        '<a href="mailto:c@example.com">c</a>'
    )
    assert cleaned.count('rel="noopener noreferrer nofollow"') == 3
    assert 'href="https://a.example/x"' in cleaned
    assert 'href="mailto:c@example.com"' in cleaned


def test_relative_links_are_removed() -> None:
    assert "href" not in sanitize_html('<a href="/admin/delete">x</a>')


def test_embedded_images_are_kept_and_remote_images_lose_their_source() -> None:
    cleaned = sanitize_html(
        '<img src="cid:a@b"><img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="https://remote.example/p.png">'
    )
    assert 'src="cid:a@b"' in cleaned
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in cleaned
    assert "remote.example" not in cleaned


def test_basic_formatting_lists_and_tables_are_kept() -> None:
    html = (
        "<p><b>b</b><i>i</i><u>u</u></p><ul><li>one</li></ul>"
        '<table><tbody><tr><td colspan="2">cell</td></tr></tbody></table>'
    )
    assert sanitize_html(html) == html


def test_html_over_two_megabytes_is_replaced_by_the_fallback_text() -> None:
    assert sanitize_html("<p>" + "x" * (2 * 1024 * 1024) + "</p>") == HTML_TOO_LARGE


def test_large_html_is_sanitised_in_a_child_process_with_the_same_rules() -> None:
    html = "<p onclick='x()'>Hello <script>alert(1)</script>world</p>" * 2000
    cleaned = sanitize_html(html)
    assert cleaned.count("<p>Hello world</p>") == 2000
    assert "script" not in cleaned


def test_pathological_html_falls_back_within_the_time_budget() -> None:
    started = time.monotonic()
    # html5ever is quadratic on deep block nesting: this takes minutes when not stopped.
    assert sanitize_html("<div>" * 300_000) == HTML_TOO_COMPLEX
    assert time.monotonic() - started < 5


def test_parse_marks_an_undisplayable_html_body() -> None:
    raw = eml("Content-Type: text/html\n\n" + "<div>" * 300_000 + "\n")
    mail = parse(raw)
    assert mail.html == HTML_TOO_COMPLEX
    assert mail.text == HTML_TOO_COMPLEX
    assert any("not displayed" in d for d in mail.defects)


def test_parse_sanitises_the_html_body() -> None:
    mail = parse(eml(ALTERNATIVE.format(plain="p", html="<p onclick=x>hi</p><script>y</script>")))
    assert mail.html == "<p>hi</p>"
