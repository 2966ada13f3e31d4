"""Secrets at rest (mailbox passwords): encrypted with a key derived from the app's secret.

They are decrypted only where they are used (the worker's IMAP/SMTP activities) and never
shown back in the UI, the API or logs.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SecretUnreadable(ValueError):
    """The secret was encrypted under another key (TEMPODESK_SECRET_KEY changed)."""


def _fernet(app_secret: str) -> Fernet:
    digest = hashlib.sha256(b"tempodesk-vault:" + app_secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(plaintext: str, app_secret: str) -> str:
    return _fernet(app_secret).encrypt(plaintext.encode()).decode() if plaintext else ""


def unseal(token: str, app_secret: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(app_secret).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored password cannot be read: was TEMPODESK_SECRET_KEY changed? "
            "Enter the password again."
        ) from None
