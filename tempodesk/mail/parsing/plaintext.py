"""Plain text for people: an HTML body read as text, and the new part of a reply.

:func:`html_to_text` gives the body text of a message that has no ``text/plain`` part;
:func:`trim_quoted` cuts a reply down to what the customer wrote for the timeline.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tempodesk.mail.parsing.html import LINK_SCHEMES

# Block elements start a new line; these also leave a blank line around them.
_PARAGRAPH_TAGS = frozenset(
    {"blockquote", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre", "table", "ul"}
)
_LINE_TAGS = frozenset(
    {
        "address", "article", "aside", "caption", "dd", "div", "dt", "figcaption", "figure",
        "footer", "form", "header", "li", "main", "nav", "section", "tbody", "tfoot", "thead",
        "tr",
    }
)  # fmt: skip
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "svg", "math"})


class _TextExtractor(HTMLParser):
    """Collects text; line breaks are owed (``pending``) and paid before the next text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.pending = 0
        self.line_start = True
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[tuple[str, int]] = []

    def _break(self, newlines: int) -> None:
        if self.chunks:
            self.pending = max(self.pending, newlines)

    def _emit(self, text: str, *, marker: bool = False) -> None:
        if (self.line_start or self.pending) and not self.pre_depth:
            text = text.lstrip()
        if not text:
            return  # whitespace between blocks pays no line breaks
        if self.pending:
            self.chunks.append("\n" * self.pending)
            self.pending = 0
        self.chunks.append(text)
        self.line_start = marker

    def _block(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
            return
        if tag == "br":
            if self.chunks:
                self.pending += 1
            return
        self._block(tag)
        if tag == "pre":
            self.pre_depth += 1
        elif tag == "li":
            self._emit("- ", marker=True)
        elif tag in ("td", "th") and not self.line_start:
            self._emit(" ")
        elif tag == "a":
            self.links.append(((dict(attrs).get("href") or "").strip(), len(self.chunks)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag == "a" and self.links:
            target, start = self.links.pop()
            label = "".join(self.chunks[start:]).strip()
            if target.lower().startswith(LINK_SCHEMES) and target.removeprefix("mailto:") != label:
                self._emit(f" ({target})" if label else target)
        self._block(tag)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        self._emit(data if self.pre_depth else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: blocks become lines, links ``text (url)``.

    Stdlib ``html.parser`` only, so it never executes or fetches anything; entities are decoded.
    Meant for sanitised HTML (see :func:`sanitize_html`): used when a message has no text/plain.
    """
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # html.parser is lenient; this is belt and braces
        pass
    text = "".join(extractor.chunks).replace("\xa0", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


_ATTRIBUTION = re.compile(
    r"""^\s*(?:
        on\s.{1,300}\swrote\s?:                       # On Mon, 1 Jan 2024, Jana <j@x> wrote:
      | dne\s.{1,300}\snapsal(?:\(a\)|a)?\s?:         # Dne 1. 1. 2024 v 10:00 Jana napsal(a):
      | am\s.{1,300}\sschrieb.{0,300}:                # Am 01.01.2024 um 10:00 schrieb Jana:
      | le\s.{1,300}\sa\sécrit\s?:                    # Le 1 janv. 2024, Jana a écrit :
      | el\s.{1,300}\sescribió\s?:                    # El 1 ene 2024, Jana escribió:
      | il\s.{1,300}\sha\sscritto\s?:                 # Il 1 gen 2024, Jana ha scritto:
      | op\s.{1,300}\sschreef.{0,300}:                # Op 1 jan. 2024 schreef Jana:
      | -{2,}\s*(?:original\smessage|ursprüngliche\snachricht|původní\szpráva
          |message\sd'origine|forwarded\smessage|weitergeleitete\snachricht)\s*-{2,}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Outlook's quoted header block: "From: …" with "Sent: …"/"Date: …" in the next few lines.
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|von|od|de|van|da)\s?:\*?\s", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|odesláno|envoyé|enviado|inviato|verzonden)\s?:\*?\s",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^-- ?$")


def _reply_cut(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line):
            return index
        # Clients wrap a long attribution line: try it joined with the next line.
        if (
            index + 1 < len(lines)
            and line.strip()
            and _ATTRIBUTION.match(f"{line.rstrip()} {lines[index + 1].strip()}")
        ):
            return index
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_SENT.match(following) for following in lines[index + 1 : index + 5]
        ):
            start = index
            # Outlook draws a line of underscores above the block.
            if start > 0 and set(lines[start - 1].strip()) == {"_"}:
                start -= 1
            return start
    return None


def trim_quoted(text: str) -> str:
    """The new part of a reply, for the timeline: attribution, quote and signature cut off.

    Cuts at the first reply attribution ("On … wrote:", "Dne … napsal(a):", "Am … schrieb",
    "-----Original Message-----", Outlook's "From: … Sent: …" block), then at a signature
    separator ("-- "), then drops trailing ``>``-quoted lines. Inline answers between quoted
    lines are kept. If nothing would remain while the input has unquoted text (someone wrote
    below the quote), the whole text is returned: losing the customer's words is worse than
    showing a quote.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _reply_cut(lines)
    kept = lines[:cut] if cut is not None else list(lines)
    for index, line in enumerate(kept):
        if _SIGNATURE.match(line) and any(previous.strip() for previous in kept[:index]):
            kept = kept[:index]
            break
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip()
    if result:
        return result
    has_own_text = any(line.strip() and not line.lstrip().startswith(">") for line in lines)
    return text.strip() if has_own_text else ""
