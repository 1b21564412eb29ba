"""What a voter types to identify, and what the registry answers (plain values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Credentials:
    """Título de eleitor + birth date; for OPCA, school slug + enrolment number + birth date."""

    birth_date: date
    titulo: str | None = None
    school: str | None = None
    enrolment: str | None = None


@dataclass(frozen=True)
class EligibleVoter:
    """A registry match that passed the cycle's rules. Holds no registration number."""

    voter_key: str
    region_id: int | None
    school_id: int | None
