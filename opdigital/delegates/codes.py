"""Delegate codes: one-time credentials printed on a slip, one per delegate (standard library).

A code is 9 random characters and a check character, from an alphabet without look-alikes (no
0/O, 1/I/L): 31 symbols, so about 44 bits of chance per code. The check character (a weighted
sum modulo 31, a prime: every single wrong character and every swap of two neighbours changes
it) lets a typing mistake be told apart from a wrong code without asking the roll. Only a keyed
hash of the normalised code is stored (`registry.keys.voter_key` of `delegate_number(code)`).
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RANDOM_LENGTH = 9
LENGTH = RANDOM_LENGTH + 1
_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
_SEPARATORS = str.maketrans("", "", " -.\t")


def _check_symbol(body: str) -> str:
    total = sum((position + 1) * _VALUE[symbol] for position, symbol in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_code() -> str:
    """A fresh random code with its check character (normalised form, 10 symbols)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + _check_symbol(body)


def normalise(raw: str) -> str:
    """The code as typed, in upper case without spaces or hyphens; ValueError unless it has the
    right length, only symbols of the alphabet and the right check character."""
    code = raw.translate(_SEPARATORS).upper()
    if len(code) != LENGTH or any(symbol not in _VALUE for symbol in code):
        raise ValueError("a delegate code has 10 letters and digits")
    if _check_symbol(code[:-1]) != code[-1]:
        raise ValueError("a delegate code's check character does not match")
    return code


def is_well_formed(raw: str) -> bool:
    try:
        normalise(raw)
    except ValueError:
        return False
    return True


def pretty(code: str) -> str:
    """As printed on the slip: two groups of five (typed with or without the hyphen)."""
    return f"{code[:5]}-{code[5:]}"


def delegate_number(code: str) -> str:
    """What is hashed into the voter key: never a título (12 digits) nor a school number."""
    return f"delegate:{code}"
