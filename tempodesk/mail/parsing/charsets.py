"""Text from bytes in whatever charset a mail claims, or fails to claim.

Never an exception: an unknown or lying charset falls back to UTF-8, then cp1252; labels mail
clients use that Python lacks, or that a superset decodes better, are aliased; raw 8-bit bytes
the stdlib smuggled through as surrogates are turned back into text.
"""

from __future__ import annotations

import codecs
import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogates(value: str) -> bool:
    return _SURROGATE.search(value) is not None


def fix_surrogates(value: str) -> str:
    """Turn the parser's escaped 8-bit bytes back into text: UTF-8 if valid, else cp1252.

    The stdlib reads header and body bytes as ASCII with ``surrogateescape``; raw 8-bit header
    bytes (RFC 6532 UTF-8, or a legacy charset without encoded words) come back as lone
    surrogates, which no database or template accepts.
    """
    if not has_surrogates(value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


# Labels mail clients use that Python lacks or that a superset decodes better (WHATWG does the
# same: ISO-8859-1 is read as windows-1252, GB2312 as GB18030).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "unicode-1-1-utf-7": "utf-7",
    "iso-2022-jp": "iso2022_jp_ext",
}
# Text codecs that turn data into something other than its text, or that are platform-only.
_UNSAFE_CODECS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}
)


def codec_name(charset: str | None) -> str | None:
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _UNSAFE_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text: the declared charset, else UTF-8, else the declared one or cp1252 lossy."""
    codec = codec_name(charset)
    if codec:
        try:
            return data.decode(codec)
        except Exception:  # exotic codecs raise more than UnicodeDecodeError
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec:
        try:
            return data.decode(codec, "replace")
        except Exception:
            pass
    return data.decode("cp1252", "replace")
