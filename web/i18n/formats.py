"""Dates, numbers and amounts of money in the viewer's locale (Babel, through Flask-Babel):
the ``when``, ``number`` and ``money`` filters of the templates.

Times are shown in UTC (the desk's one clock), named as such. An order's total is text an
integration sent ("1 290 CZK", "EUR 49.90"): one amount with an ISO currency code is shown in
the locale's way ("1 290,00 Kč", "CZK 1,290.00"); anything else as it came.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_name
from flask_babel import format_currency, format_date, format_decimal, format_time

_AMOUNT = re.compile(
    r"^\s*(?:(?P<before>[A-Z]{3})\s*)?(?P<number>-?\d[\d\s\u00a0\u202f.,']*?)\s*"
    r"(?:(?P<after>[A-Z]{3}))?\s*$"
)


def format_when(value: Any) -> str:
    """A moment as the viewer's locale writes a date and a time (UTC)."""
    from tempodesk.core.db import aware

    moment = aware(value)
    if moment is None:
        return ""
    return f"{format_date(moment, 'medium')} {format_time(moment, 'short')} UTC"


def format_number(value: Any) -> str:
    """A number with the locale's separators ("1,290.5", "1 290,5")."""
    if value is None or value == "":
        return ""
    try:
        return str(format_decimal(value))
    except (TypeError, ValueError, InvalidOperation):
        return str(value)


def parse_amount(text: str) -> tuple[Decimal, str] | None:
    """(amount, currency) of a text holding one amount and an ISO currency code."""
    found = _AMOUNT.match(text or "")
    if not found:
        return None
    currency = found.group("before") or found.group("after")
    if not currency or (found.group("before") and found.group("after")):
        return None
    try:
        get_currency_name(currency, locale="en")
    except Exception:
        return None
    digits = re.sub(r"[\s\u00a0\u202f']", "", found.group("number"))
    if "." in digits and "," in digits:  # the last one is the decimal mark
        mark = "." if digits.rfind(".") > digits.rfind(",") else ","
        other = "," if mark == "." else "."
        digits = digits.replace(other, "").replace(mark, ".")
    elif digits.count(",") + digits.count(".") == 1 and re.search(r"[.,]\d{1,2}$", digits):
        digits = digits.replace(",", ".")
    else:
        digits = digits.replace(",", "").replace(".", "")
    try:
        return Decimal(digits), currency
    except InvalidOperation:
        return None


def format_money(text: Any) -> str:
    """An amount of money in the viewer's locale, or the text as it came."""
    text = "" if text is None else str(text)
    parsed = parse_amount(text)
    if parsed is None:
        return text
    amount, currency = parsed
    return str(format_currency(amount, currency))
