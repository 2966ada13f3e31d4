"""Encrypted workflow payloads: a ``PayloadCodec`` with AES-256-GCM (``cryptography``).

Workflow histories keep every payload (start inputs, signals, updates, activity inputs and
results, queries' answers are not kept) until the namespace's retention after the run closes.
Tempodesk keeps message bodies in the database (claim checks), but a ticket's start input and
state still carry the customer's address, name and subject. With ``TEMPODESK_PAYLOAD_KEYS``
set, every payload leaves the client and the worker encrypted: Temporal's database, its
archival and the Temporal UI see only ciphertext (the UI can decrypt through a codec server
that runs this codec: README, "GDPR"). Search attributes are not payloads of this kind and
are never encrypted: they are kept without personal text but for ``CustomerEmail``.

Keys: base64 (standard or URL-safe) of 32 random bytes, comma-separated; the first encrypts,
every one decrypts (rotation: put the new key first, keep the old ones while histories
written with them live). Each payload names its key by a short id (a hash of the key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class CodecKeyError(ValueError):
    """A configured key is not base64 of 32 bytes."""


def parse_keys(value: str) -> list[bytes]:
    """The keys of ``TEMPODESK_PAYLOAD_KEYS`` (empty: none)."""
    keys = []
    for text in (part.strip() for part in value.split(",")):
        if not text:
            continue
        try:
            key = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "==")
        except (binascii.Error, ValueError):
            raise CodecKeyError("a payload key is not base64") from None
        if len(key) != 32:
            raise CodecKeyError(f"a payload key has {len(key)} bytes, not 32")
        keys.append(key)
    return keys


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each serialised payload; the payload's metadata says which key."""

    def __init__(self, keys: Sequence[bytes]):
        if not keys:
            raise CodecKeyError("no payload key")
        self._current = key_id(keys[0])
        self._ciphers = {key_id(key): AESGCM(key) for key in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.encode_now(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.decode_now(payloads)

    def encode_now(self, payloads: Sequence[Payload]) -> list[Payload]:
        """``encode`` without an event loop (the web's codec server is synchronous)."""
        return [self._encrypt(p) for p in payloads]

    def decode_now(self, payloads: Sequence[Payload]) -> list[Payload]:
        """``decode`` without an event loop; CodecKeyError for a payload of an unknown key,
        ``cryptography``'s InvalidTag for one that was tampered with."""
        return [self._decrypt(p) for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self._current.encode()},
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was turned on
        wanted = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(wanted)
        if cipher is None:
            raise CodecKeyError(f"payload encrypted with unknown key {wanted!r}")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        plain = Payload()
        plain.ParseFromString(cipher.decrypt(nonce, sealed, None))
        return plain
