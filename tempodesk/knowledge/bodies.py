"""An article's (or information page's) HTML: sanitised with nh3 to an allowlist, and its
plain text (for search and for inserting into a reply).

nh3 is quadratic on some inputs and a call into Rust cannot be interrupted (ARCHITECTURE.md,
"Email in"), so a body is capped at :data:`MAX_BODY_CHARS`, small bodies are cleaned in this
process and larger ones in a child process of ``tempodesk.core.child`` killed after
:data:`SANITIZE_SECONDS` (the body is then refused as too complex). Images: none (an article
links to what it shows); links only http(s), mailto and paths on this site.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from tempodesk.core.child import ChildFailed, ChildPool

MAX_BODY_CHARS = 100_000
IN_PROCESS_CHARS = 16 * 1024
SANITIZE_SECONDS = 1.5

_TAGS = {
    "a", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "i", "li", "ol", "p",
    "pre", "strong", "u", "ul", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_CLEAN_CONTENT = {
    "script", "style", "title", "head", "svg", "math", "template", "iframe", "object",
    "embed", "applet", "noframes", "noembed", "xmp", "textarea", "select", "frameset",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_SCHEMES = ("http://", "https://", "mailto:")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        plain = value.strip()
        lowered = plain.lower()
        if lowered.startswith(_SCHEMES):
            return plain
        # A path on this site (another article), never a scheme-relative "//host".
        if plain.startswith("/") and not plain.startswith("//") and "\\" not in plain:
            return plain
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_CLEAN_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
    url_schemes={"http", "https", "mailto"},
    url_relative="pass_through",
)

# One child per Tempodesk process, started when a large body is first saved.
_CHILD = ChildPool("tempodesk.knowledge.bodies:serve_clean", size=1)


class BodyRefused(ValueError):
    """The body cannot be accepted (too long, too complex to sanitise in time)."""


def clean(body: str) -> str:
    """nh3 with the articles' allowlist, in this process (the child runs this too)."""
    return _CLEANER.clean(body)


def serve_clean(payload: bytes) -> bytes:
    """In the child: :func:`clean` applied to one body."""
    return clean(payload.decode("utf-8", "replace")).encode("utf-8")


def sanitize(body: str) -> str:
    """The body reduced to the allowlist; BodyRefused if it is too long or too complex."""
    if len(body) > MAX_BODY_CHARS:
        raise BodyRefused(f"At most {MAX_BODY_CHARS} characters.")
    if len(body) <= IN_PROCESS_CHARS:
        return clean(body).strip()
    try:
        answer = _CHILD.call(body.encode("utf-8", "replace"), SANITIZE_SECONDS)
    except ChildFailed:
        raise BodyRefused("The text is too complex; simplify its formatting.") from None
    return answer.decode("utf-8", "replace").strip()


_BLOCKS = {"p", "div", "h2", "h3", "h4", "ul", "ol", "pre", "blockquote", "tr", "hr", "table"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        if tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS and tag != "li":
            self.parts.append("\n\n")
        if tag == "a" and self.href:
            self.parts.append(f" ({self.href})")
            self.href = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(body: str) -> str:
    """A sanitised body as plain text: paragraphs apart, list items with "- ", links with
    their address in brackets."""
    parser = _Text()
    parser.feed(body)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
