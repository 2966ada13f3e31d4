"""How customers are recognised: normalised email addresses and phone numbers."""

from __future__ import annotations

import re

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


def normalize_phone(value: str | None) -> str:
    """Digits only, keeping a leading +; "" when there are too few digits to be a number."""
    raw = (value or "").strip()
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 5:
        return ""
    return ("+" if raw.startswith(("+", "00")) else "") + digits.removeprefix(
        "00" if raw.startswith("00") else ""
    )


# Addresses that must never get automatic mail (RFC 3834; Zammad's send_no_auto_response).
_AUTOMATED = re.compile(
    r"^(mailer-daemon|postmaster|abuse|root|no-?reply|do-?not-?reply|noreply[.+-].*|no-reply[.+-].*)@",
    re.IGNORECASE,
)


def is_automated_address(address: str) -> bool:
    """True for mailer-daemon, postmaster, no-reply and the like."""
    return bool(_AUTOMATED.match(address.strip()))
