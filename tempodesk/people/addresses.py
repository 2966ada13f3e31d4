"""How customers are recognised: normalised email addresses and phone numbers."""

from __future__ import annotations

import os
import re

import phonenumbers

# Deliberately plain: one @, no spaces or control characters, a dot in the domain.
_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$"
)


def normalize_email(value: str | None) -> str:
    """Lower-cased and trimmed; email addresses are matched case-insensitively."""
    return (value or "").strip().lower()


def base_address(address: str) -> str:
    """The address without its plus tag: ``jana+shop@example.com`` → ``jana@example.com``.

    Used to recognise one person (and our own mailboxes) behind sub-addresses.
    """
    normalized = normalize_email(address)
    local, at, domain = normalized.rpartition("@")
    if not at:
        return normalized
    base = local.split("+", 1)[0]
    return f"{base}@{domain}" if base else normalized


def is_valid_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def default_region() -> str:
    """The region of numbers written without +country: ``TEMPODESK_PHONE_REGION`` (the
    setting ``phone_region``; read here so every caller, pure or not, agrees)."""
    return (os.environ.get("TEMPODESK_PHONE_REGION") or "CZ").upper()


def normalize_phone(value: str | None, region: str | None = None) -> str:
    """The number in E.164 (``+420605111222``), as every stored or matched number is
    written; "" when it is not a possible phone number. ``00`` counts as ``+``; a number
    without a country is read in ``region`` (default: :func:`default_region`)."""
    raw = (value or "").strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 5:
        return ""
    if len(digits) > 32:
        return digits  # longer than any column holds: the edge's length check says so
    try:
        parsed = phonenumbers.parse(
            raw, None if raw.startswith("+") else (region or default_region())
        )
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def e164(value: str | None, region: str = "") -> str:
    """The number in E.164 (``+420601234567``), read in ``region`` when written without a
    country code; "" when it is not a possible number."""
    raw = (value or "").strip()
    if not raw:
        return ""
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(value: str, region: str = "") -> bool:
    """Whether the number can take an SMS (a mobile, or a number of a plan that does not say)."""
    number = e164(value, region)
    if not number:
        return False
    kind = phonenumbers.number_type(phonenumbers.parse(number))
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


# Addresses that must never get automatic mail (RFC 3834; Zammad's send_no_auto_response).
_AUTOMATED = re.compile(
    r"^(mailer-daemon|postmaster|abuse|root|no-?reply|do-?not-?reply|noreply[.+-].*|no-reply[.+-].*)@",
    re.IGNORECASE,
)


def is_automated_address(address: str) -> bool:
    """True for mailer-daemon, postmaster, no-reply and the like."""
    return bool(_AUTOMATED.match(address.strip()))
