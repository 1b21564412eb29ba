"""Contacts as people write them, made comparable.

A proposer typed their contact once, in their own way ("Ana@Example.org ", "(31) 99876-5432");
a request may type it another way ("ana@example.org", "+55 31 998765432"). Both are reduced to a
key before comparing: an e-mail address trimmed and lower-cased (the whole address: providers
treat the local part case-insensitively in practice), a phone number to its national digits
(punctuation, a leading +55 or 0055 country code and a leading trunk 0 dropped). A number
written without its area code matches only one written the same way.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from opdigital.subject_requests.models import ContactKind

_NOT_DIGIT = re.compile(r"\D")
# What a phone number may be written with: digits, spaces, + ( ) . -
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9\s().-]+$")
BRAZIL = "55"
# Digits of a Brazilian number with its area code: 10 (landline) or 11 (mobile).
NATIONAL_LENGTHS = (10, 11)
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 8, 15


def kind_of(contact: str) -> ContactKind:
    """An e-mail address has an @; anything else is taken as a phone number."""
    return ContactKind.EMAIL if "@" in (contact or "") else ContactKind.PHONE


def email_key(address: str) -> str:
    return (address or "").strip().lower()


def phone_key(number: str) -> str:
    """The national digits of a phone number; "" when it holds no digit.

    A number in another country keeps its country code behind a "+" ("+351..."), so it never
    equals a Brazilian one.
    """
    text = (number or "").strip()
    digits = _NOT_DIGIT.sub("", text)
    if text.startswith("+"):
        if not digits.startswith(BRAZIL):
            return "+" + digits
        digits = digits[len(BRAZIL) :]
    elif digits.startswith("00"):
        digits = digits[2:]
        if not digits.startswith(BRAZIL):
            return "+" + digits
        digits = digits[len(BRAZIL) :]
    elif digits.startswith(BRAZIL) and len(digits) - len(BRAZIL) in NATIONAL_LENGTHS:
        digits = digits[len(BRAZIL) :]
    return digits.lstrip("0")


def key(contact: str) -> str:
    """The comparable form of an e-mail address or a phone number."""
    if kind_of(contact) == ContactKind.EMAIL:
        return email_key(contact)
    return phone_key(contact)


def same(a: str, b: str) -> bool:
    """True when two contacts, as typed, name the same address or number."""
    if not a or not b or kind_of(a) != kind_of(b):
        return False
    first = key(a)
    return bool(first) and first == key(b)


def looks_like_phone(number: str) -> bool:
    """Digits with the usual punctuation, 8 to 15 of them (E.164's most)."""
    digits = _NOT_DIGIT.sub("", number or "")
    return bool(_PHONE_CHARACTERS.match(number or "")) and (
        MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS
    )


def is_valid(contact: str) -> bool:
    """An e-mail address as a mail server would take it, or a plausible phone number."""
    value = (contact or "").strip()
    if kind_of(value) == ContactKind.EMAIL:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            return False
        return True
    return looks_like_phone(value)


def masked(contact: str) -> str:
    """Enough of a contact for its owner to recognise it, not for anyone else to use it:
    "a***@example.org", "(**) *****-5432" style (the last four digits)."""
    if kind_of(contact) == ContactKind.EMAIL:
        local, _, domain = contact.strip().partition("@")
        return f"{local[:1]}***@{domain}"
    digits = _NOT_DIGIT.sub("", contact or "")
    return "*" * max(0, len(digits) - 4) + digits[-4:]
