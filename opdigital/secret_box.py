"""Encryption of short-lived server or cookie state with a key of its own per purpose.

Each purpose (the web voting flow's cookie, the phone conversations' rows) gets a Fernet key
derived from SECRET_KEY with HKDF and the purpose as `info`, so that one purpose's tokens never
open in another and SECRET_KEY itself (which also signs cookies) is used for nothing else.
"""

from __future__ import annotations

import base64
import functools
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@functools.lru_cache(maxsize=8)
def cipher(secret_key: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, purpose: bytes, value: dict) -> str:
    """`value` as JSON, encrypted and authenticated."""
    plain = json.dumps(value, separators=(",", ":")).encode()
    return cipher(secret_key, purpose).encrypt(plain).decode("ascii")


def unseal(secret_key: str, purpose: bytes, token: str, max_age: int | None = None) -> dict | None:
    """The dict `seal` stored, or None when the token is forged, from another key or purpose,
    older than `max_age` seconds, or not a dict."""
    try:
        value = json.loads(cipher(secret_key, purpose).decrypt(token.encode(), ttl=max_age))
    except (InvalidToken, ValueError):
        return None
    return value if isinstance(value, dict) else None
