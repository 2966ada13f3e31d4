"""An SMS body as the network carries it: line ends, the GSM-7 or UCS-2 alphabet, segments.

Pure. A body is data (a rendered template or an agent's text), never a template again.
GSM 03.38: a message of the basic alphabet (plus its extension table, each character of
which costs two septets: ESC and itself) fits 160 septets, or 153 per part once it is split
(the 7-septet header); anything else goes as UCS-2: 70 UTF-16 units, 67 per part. A part
never splits an escape pair or a surrogate pair, so such a character moves whole to the next.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" | "UCS-2"
    parts: int  # how many messages the network sends (what a provider bills)
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def clean_body(text: str) -> str:
    """CRLF and lone CR become LF (one character on the network, not two), a tab a space
    (GSM-7 has no tab); NUL and other C0 controls are dropped; outer blank space trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(c for c in text if c == "\n" or ord(c) >= 32).strip()


def is_gsm7(text: str) -> bool:
    return all(c in _BASIC or c in _EXTENSION for c in text)


def _unit_costs(text: str) -> tuple[str, list[int]]:
    if is_gsm7(text):
        return "GSM-7", [2 if c in _EXTENSION else 1 for c in text]
    return "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]


def segments(text: str) -> Segments:
    """How many parts ``text`` takes, in which alphabet (no character split across parts)."""
    encoding, costs = _unit_costs(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    units = sum(costs)
    if units <= single:
        return Segments(encoding, 1 if units else 0, units)
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return Segments(encoding, parts, units)
