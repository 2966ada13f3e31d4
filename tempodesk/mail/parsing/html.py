"""Customer HTML reduced to an allowlist fit to show agents (RELIABILITY.md R12, R13).

HTML is sanitised here, at ingest (nh3/ammonia allowlist), and escaped again when rendered.
Small HTML is cleaned in this process; large HTML in the child process of
:mod:`tempodesk.mail.parsing.sanitizer`, which can be killed when nh3 runs away.
"""

from __future__ import annotations

import re

import nh3

from tempodesk.mail.parsing.charsets import fix_surrogates
from tempodesk.mail.parsing.sanitizer import clean_in_child

MAX_HTML_BYTES = 2 * 1024 * 1024
HTML_TOO_LARGE = "This HTML part is too large to display; download the raw message."
HTML_TOO_COMPLEX = "This HTML part is too complex to display; download the raw message."
# Up to this size nh3 runs in-process: its worst case measured here stays under 0.05 s.
IN_PROCESS_HTML_CHARS = 16 * 1024
SANITIZE_TIMEOUT_SECONDS = 0.8

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strike",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u",
    "ul",
}  # fmt: skip
# Tags whose content is code or chrome, not message text: removed with everything inside.
_CLEAN_CONTENT_TAGS = {
    "script", "style", "title", "head", "svg", "math", "template", "iframe", "object",
    "embed", "applet", "noframes", "noembed", "xmp", "textarea", "select", "frameset",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "*": {"dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "table": {"border", "cellpadding", "cellspacing"},
    "ol": {"start", "type"},
    "li": {"value"},
    "col": {"span"},
    "colgroup": {"span"},
}
LINK_SCHEMES = ("http://", "https://", "mailto:")
_IMAGE_SOURCE = re.compile(r"^(?:cid:|data:image/(?:png|jpeg|jpg|gif|webp|bmp);)", re.I)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Per attribute, because url_schemes is global: data: is fine for an <img>, not for <a>.
    if attribute == "href":
        return value if value.strip().lower().startswith(LINK_SCHEMES) else None
    if attribute == "src":
        # Remote images are tracking pixels (and leak the agent's IP); only embedded ones stay.
        return value if tag == "img" and _IMAGE_SOURCE.match(value.strip()) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags=_CLEAN_CONTENT_TAGS,
    attributes=_ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
    url_schemes={"http", "https", "mailto", "cid", "data"},
    url_relative="deny",
)


def clean(html: str) -> str:
    """nh3 with our allowlist, in this process (the sanitiser child runs this too)."""
    return _CLEANER.clean(html)


def serve_clean(payload: bytes) -> bytes:
    """In the sanitiser's child: :func:`clean` applied to one request's HTML."""
    return clean(payload.decode("utf-8", "replace")).encode("utf-8", "replace")


def sanitize_html(html: str) -> str:
    """Customer HTML reduced to an allowlist fit to show agents (RELIABILITY R12, R13).

    Formatting, lists, tables and links (http, https and mailto only, with
    ``rel="noopener noreferrer nofollow"``) stay; images stay only with ``cid:`` or
    ``data:image/`` sources (remote ones are tracking pixels); scripts, styles, frames, forms,
    ``<base>``, ``<meta>``, event handlers and ``style`` attributes go (the CSP forbids inline
    styles anyway).

    Time and size guard, as Zammad does: HTML over 2 MB is replaced by :data:`HTML_TOO_LARGE`.
    The HTML5 tree builder under nh3 is quadratic on some inputs (measured: 64 KB of nested
    ``<div>`` takes 0.5 s, 2 MB of ``<table>x`` 18 s, distinct ``<font>`` tags minutes), and a
    call into Rust cannot be interrupted. So HTML over 16 KB is sanitised in a child process
    (:mod:`tempodesk.mail.parsing.sanitizer`) that is killed after
    :data:`SANITIZE_TIMEOUT_SECONDS`; then, or when the output balloons, the result is
    :data:`HTML_TOO_COMPLEX`. The raw message stays downloadable either way.
    """
    html = fix_surrogates(html)
    if len(html) > MAX_HTML_BYTES or len(html.encode("utf-8", "replace")) > MAX_HTML_BYTES:
        return HTML_TOO_LARGE
    if len(html) <= IN_PROCESS_HTML_CHARS:
        cleaned: str | None = clean(html)
    else:
        cleaned = clean_in_child(html, SANITIZE_TIMEOUT_SECONDS)
    if cleaned is None or len(cleaned) > 2 * MAX_HTML_BYTES:
        return HTML_TOO_COMPLEX
    return cleaned.strip()
