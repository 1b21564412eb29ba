"""Receipt codes: random, shown once to the voter; only their hash is stored (pure)."""

from __future__ import annotations

import base64
import hashlib
import secrets

# 80 random bits: guessing someone's receipt is hopeless, and it still fits on a slip of paper.
_RECEIPT_BYTES = 10
_GROUP = 4
# Codes are 16 base32 characters (19 with dashes): a longer string typed or sent as one cannot
# be one, and is not worth a database lookup.
MAX_CODE_CHARS = 64


def new_receipt_code() -> str:
    """A fresh code such as 'K7Q2-M4XA-9PLD-W3ZT' (base32: no 0/1/8/9 look-alikes to confuse)."""
    raw = base64.b32encode(secrets.token_bytes(_RECEIPT_BYTES)).decode("ascii")
    return "-".join(raw[i : i + _GROUP] for i in range(0, len(raw), _GROUP))


def normalise_receipt(code: str) -> str:
    """What people type back: any case, with or without dashes and spaces."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def receipt_hash(code: str) -> str:
    """SHA-256 (hex) of the normalised code: what the ballot board keeps."""
    return hashlib.sha256(normalise_receipt(code).encode("ascii", "ignore")).hexdigest()
