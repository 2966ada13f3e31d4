"""The help centre's look: logos by their bytes, colours as #rrggbb only."""

from __future__ import annotations

from tempodesk.core.models import KbSettings
from tempodesk.knowledge import site


def test_logo_type_is_read_from_the_bytes_never_the_name() -> None:
    assert site.logo_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert site.logo_type(b"\xff\xd8\xff\xe0....") == "image/jpeg"
    assert site.logo_type(b"GIF89a....") == "image/gif"
    assert site.logo_type(b'<svg xmlns="http://www.w3.org/2000/svg"/>') is None
    assert site.logo_type(b"<?xml version='1.0'?><svg/>") is None


def test_stylesheet_writes_only_hex_colours() -> None:
    settings = KbSettings(
        color_accent="#aa3300", color_background="red;}*{x:y", color_text="#101010"
    )
    css = site.stylesheet(settings)
    assert "--help-accent: #aa3300;" in css
    assert "--help-background: #ffffff;" in css  # a stored value that is no colour
    assert "}*{" not in css
