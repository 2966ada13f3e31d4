"""SMS bodies as the network counts them: GSM-7 or UCS-2, parts, line ends."""

from __future__ import annotations

import pytest

from tempodesk.telephony.sms_text import Segments, clean_body, is_gsm7, segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments("GSM-7", 0, 0)),
        ("a" * 160, Segments("GSM-7", 1, 160)),
        ("a" * 161, Segments("GSM-7", 2, 161)),
        ("a" * 306, Segments("GSM-7", 2, 306)),
        ("a" * 307, Segments("GSM-7", 3, 307)),
        ("€" * 80, Segments("GSM-7", 1, 160)),  # the extension table costs two septets
        ("€" * 81, Segments("GSM-7", 2, 162)),
        ("ř" * 70, Segments("UCS-2", 1, 70)),  # one Czech letter outside GSM-7: UCS-2
        ("ř" * 71, Segments("UCS-2", 2, 71)),
        ("ř" * 134, Segments("UCS-2", 2, 134)),
        ("ř" * 135, Segments("UCS-2", 3, 135)),
        ("😀" * 35, Segments("UCS-2", 1, 70)),  # a surrogate pair is two units
        ("😀" * 36, Segments("UCS-2", 2, 72)),
    ],
    ids=lambda v: repr(v)[:20] if isinstance(v, str) else "",
)
def test_segments_are_counted_per_alphabet(text: str, expected: Segments) -> None:
    assert segments(text) == expected


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 152 septets then "€" (2): the pair does not fit the first part's 153 and moves whole.
    assert segments("a" * 152 + "€" + "a" * 152).parts == 3
    assert segments("a" * 151 + "€" + "a" * 153).parts == 2


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    assert segments("ř" * 66 + "😀" + "ř" * 66).parts == 3
    assert segments("ř" * 65 + "😀" + "ř" * 67).parts == 2


def test_crlf_and_lone_cr_become_one_line_feed_and_controls_go() -> None:
    assert clean_body("  One\r\nTwo\rThree\x00\x07\tfour\n ") == "One\nTwo\nThree four"
    assert is_gsm7(clean_body("Ahoj\r\nsvěte")) is False
    assert segments(clean_body("a\r\n" * 40)).units == 79  # CRLF counts once, not twice
