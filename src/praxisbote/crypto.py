"""Secrets and files encrypted at rest with AES-256-GCM.

The key comes from PRAXISBOTE_ENCRYPTION_KEY or the 0600 key file in the data dir. Each value
gets a fresh 96-bit nonce; the associated data binds a ciphertext to its purpose (e.g. the
practice and field), so a value copied into another row does not decrypt there.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = b"\x01"


class DecryptionError(Exception):
    """Wrong key or tampered data: never guess, never return garbage."""


@lru_cache(maxsize=4)
def _aead(key_material: str) -> AESGCM:
    return AESGCM(hashlib.sha256(("praxisbote-aead:" + key_material).encode()).digest())


def encrypt_bytes(data: bytes, purpose: str = "") -> bytes:
    nonce = os.urandom(12)
    return VERSION + nonce + _aead(settings.ENCRYPTION_KEY).encrypt(nonce, data, purpose.encode())


def decrypt_bytes(blob: bytes, purpose: str = "") -> bytes:
    if not blob or blob[:1] != VERSION:
        raise DecryptionError("unknown format")
    try:
        return _aead(settings.ENCRYPTION_KEY).decrypt(blob[1:13], blob[13:], purpose.encode())
    except InvalidTag as exc:
        raise DecryptionError("cannot decrypt: wrong key or altered data") from exc


def encrypt_text(text: str, purpose: str = "") -> str:
    return base64.urlsafe_b64encode(encrypt_bytes(text.encode(), purpose)).decode()


def decrypt_text(token: str, purpose: str = "") -> str:
    try:
        blob = base64.urlsafe_b64decode(token.encode())
    except ValueError as exc:
        raise DecryptionError("not an encrypted value") from exc
    return decrypt_bytes(blob, purpose).decode()
