"""What a voter types to identify, and what the registry answers (plain values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# A delegate's roll entry has no birth date; the column is required, so every delegate entry
# holds this same placeholder (it says nothing about anyone), and a delegate's credentials carry
# it too, so the cast statement's roll lookup works unchanged.
DELEGATE_BIRTH_DATE = date(1900, 1, 1)


@dataclass(frozen=True)
class Credentials:
    """Título de eleitor + birth date; for OPCA, school slug + enrolment number + birth date;
    for a cycle whose roll is its delegates, the delegate code alone (`for_delegate`)."""

    birth_date: date
    titulo: str | None = None
    school: str | None = None
    enrolment: str | None = None
    delegate_code: str | None = None
    # A título already reduced to its voter key (registry/keys.py): the phone's dialogue keeps
    # no título between the keypad steps, only this (`for_titulo_key`).
    titulo_key: str | None = None

    @classmethod
    def for_delegate(cls, code: str) -> Credentials:
        return cls(birth_date=DELEGATE_BIRTH_DATE, delegate_code=code)

    @classmethod
    def for_titulo_key(cls, key: str, birth_date: date) -> Credentials:
        """A título given earlier as its voter key: the roll holds only valid títulos' keys,
        so a mistyped one (check digits included) is simply not found, as with `titulo`."""
        return cls(birth_date=birth_date, titulo_key=key)


@dataclass(frozen=True)
class EligibleVoter:
    """A registry match that passed the cycle's rules. Holds no registration number."""

    voter_key: str
    region_id: int | None
    school_id: int | None
