"""Registry services: importing a roll, deciding who may vote, and counting the roll.

Eligibility answers every failure with one and the same message, so that nobody can learn from
the answers whether a título is on the roll (docs/security.md, "Eligibility without probing");
the precise `reason` stays on the exception for tests and for the caller's per-credential rate
limiting, never for the user.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import to_city, today_in_city
from opdigital.cycles.models import Cycle, CycleKind, PhaseKind
from opdigital.delegates import codes as delegate_codes
from opdigital.errors import NotEligible
from opdigital.extensions import db
from opdigital.regions.models import Region, School
from opdigital.registry import importer, titulo
from opdigital.registry.credentials import Credentials, EligibleVoter
from opdigital.registry.keys import school_number, voter_key
from opdigital.registry.models import CITY_SCOPE, RegistryEntry, cycle_scope, is_delegate_scope
from opdigital.retention.models import RollCount

NOT_ELIGIBLE_MESSAGE = _l(
    "We could not confirm that you can vote in this cycle. Check your título and birth date."
)
NOT_ELIGIBLE_SCHOOL_MESSAGE = _l(
    "We could not confirm that you can vote in this cycle. "
    "Check your school, enrolment number and birth date."
)
NOT_ELIGIBLE_DELEGATE_MESSAGE = _l(
    "We could not confirm this delegate code. Check the code printed on your slip; if it was "
    "lost or does not work, ask the coordinators at the forum."
)


# --- Import -----------------------------------------------------------------------------------


def import_registry(
    path: str | Path,
    *,
    cycle_slug: str | None = None,
    city: bool = False,
    actor: Any = None,
    progress: Callable[[int], None] | None = None,
    method: str = "auto",
) -> importer.ImportReport:
    """Load a roll CSV into the city's roll (`city=True`) or a cycle's own; one transaction.

    Good rows are inserted, or update the stored entry when the birth date, region or school
    differ (the newest import wins); identical rows are counted as unchanged. Entries absent
    from the file are kept: an extract adds to the roll, it does not replace it.
    Raises importer.UnusableFile when nothing can be imported.
    """
    cycle = None
    if city:
        scope, school_roll = CITY_SCOPE, False
    else:
        cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == (cycle_slug or "")))
        if cycle is None:
            raise importer.UnusableFile(_l("There is no cycle %(slug)s.", slug=repr(cycle_slug)))
        scope, school_roll = cycle_scope(cycle.id), cycle.kind == CycleKind.OPCA.value
    reader = importer.RollReader(
        Path(path),
        school_roll=school_roll,
        pepper=current_app.config["VOTER_KEY_PEPPER"],
        today=today_in_city(),
        regions=dict(db.session.execute(sa.select(Region.slug, Region.id)).all()),
        schools={
            slug: (school_id, region_id)
            for slug, school_id, region_id in db.session.execute(
                sa.select(School.slug, School.id, School.region_id)
            )
        },
        progress=progress,
    )
    if method == "auto":
        method = "postgres" if db.engine.dialect.name == "postgresql" else "generic"
    write = importer.write_postgres if method == "postgres" else importer.write_generic
    report = importer.ImportReport(scope=scope)
    started = time.perf_counter()
    try:
        report.inserted, report.updated, report.unchanged = write(reader.batches(), scope)
        finished = time.perf_counter()
        report.seconds = {
            "reading": reader.seconds,
            "after_reading": finished - (reader.finished_at or finished),
            "total": finished - started,
        }
        report.rows, report.rejected = reader.rows, reader.rejected
        # Counts only: the audit log must never hold a registration number.
        audit.record(actor, "registry.import", cycle, after=report.counts())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return report


# --- Eligibility ------------------------------------------------------------------------------


def reference_date(cycle: Cycle, on: date | None = None) -> date:
    """The day ages are reckoned on: the cycle's setting, else the voting phase's first day."""
    if cycle.age_reference_date:
        return cycle.age_reference_date
    voting = cycle.phase_of_kind(PhaseKind.VOTING.value)
    if voting is not None:
        return to_city(voting.starts_at).date()
    return on or today_in_city()


def _years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February -> 28 February in common years)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def birth_bounds(cycle: Cycle, on: date | None = None) -> tuple[date | None, date | None]:
    """(latest birth date allowed, earliest birth date NOT allowed) for the cycle's ages.

    Someone turns N on their birthday: a voter born exactly 16 years before the reference date
    is 16 on it, hence eligible under a minimum of 16; one born a day later is not.
    """
    ref = reference_date(cycle, on)
    latest = _years_before(ref, cycle.min_voter_age) if cycle.min_voter_age is not None else None
    too_early = (
        _years_before(ref, cycle.max_voter_age + 1) if cycle.max_voter_age is not None else None
    )
    return latest, too_early


def _refuse(cycle: Cycle, reason: str) -> NotEligible:
    if is_delegate_scope(cycle.registry_scope):
        message = NOT_ELIGIBLE_DELEGATE_MESSAGE
    elif cycle.kind == CycleKind.OPCA.value:
        message = NOT_ELIGIBLE_SCHOOL_MESSAGE
    else:
        message = NOT_ELIGIBLE_MESSAGE
    error = NotEligible(message)
    error.reason = reason  # for tests and rate limiting only; never shown nor logged
    return error


def identifier_key(cycle: Cycle, credentials: Credentials) -> str | None:
    """The voter key these credentials stand for (None if malformed): a rate-limit key that
    names no registration number."""
    pepper = current_app.config["VOTER_KEY_PEPPER"]
    if is_delegate_scope(cycle.registry_scope) or credentials.delegate_code is not None:
        return delegate_key(cycle, credentials.delegate_code, pepper)
    try:
        if cycle.kind == CycleKind.OPCA.value:
            if not credentials.school or credentials.enrolment is None:
                return None
            return voter_key(school_number(credentials.school, credentials.enrolment), pepper)
        if credentials.titulo_key is not None:
            return credentials.titulo_key if len(credentials.titulo_key) == 64 else None
        if credentials.titulo is None:
            return None
        number = titulo.normalise(credentials.titulo)
    except ValueError:
        return None
    return voter_key(number, pepper)


def delegate_key(cycle: Cycle, code: str | None, pepper: str) -> str | None:
    """The voter key of a delegate code in a cycle whose roll is its delegates (None: not such
    a cycle, or a malformed code)."""
    if not is_delegate_scope(cycle.registry_scope) or code is None:
        return None
    try:
        return voter_key(delegate_codes.delegate_number(delegate_codes.normalise(code)), pepper)
    except ValueError:
        return None


def _checked_key(cycle: Cycle, credentials: Credentials) -> str:
    """The voter key of well-formed credentials, else NotEligible (no database needed)."""
    key = identifier_key(cycle, credentials)
    if key is None:
        raise _refuse(cycle, "malformed")
    if credentials.delegate_code is not None:
        return key
    if credentials.titulo_key is not None:
        return key  # checked when it was keyed (see `Credentials.for_titulo_key`)
    if cycle.kind != CycleKind.OPCA.value and not titulo.is_valid(credentials.titulo):
        raise _refuse(cycle, "titulo_invalid")
    return key


def _age_refusal(cycle: Cycle, born: date, on: date | None = None) -> NotEligible | None:
    if is_delegate_scope(cycle.registry_scope):
        return None  # delegates were elected: the cycle's ages are its general roll's
    latest, too_early = birth_bounds(cycle, on)
    if latest is not None and born > latest:
        return _refuse(cycle, "too_young")
    if too_early is not None and born <= too_early:
        return _refuse(cycle, "too_old")
    return None


def find_eligible_voter(
    cycle: Cycle, credentials: Credentials, on: date | None = None
) -> EligibleVoter:
    """The roll entry matching these credentials if they may vote in `cycle`, else NotEligible
    (same message whatever the reason; `error.reason` says which, for internal use)."""
    key = _checked_key(cycle, credentials)
    # Plain columns, not an ORM object: this runs on every identification.
    entry = db.session.execute(
        sa.select(RegistryEntry.birth_date, RegistryEntry.region_id, RegistryEntry.school_id).where(
            RegistryEntry.scope == cycle.registry_scope, RegistryEntry.voter_key == key
        )
    ).first()
    if entry is None:
        raise _refuse(cycle, "not_found")
    if entry.birth_date != credentials.birth_date:
        raise _refuse(cycle, "birth_date")
    refusal = _age_refusal(cycle, entry.birth_date, on)
    if refusal is not None:
        raise refusal
    if cycle.restrict_region_id is not None and entry.region_id != cycle.restrict_region_id:
        raise _refuse(cycle, "region")
    return EligibleVoter(voter_key=key, region_id=entry.region_id, school_id=entry.school_id)


@dataclass(frozen=True)
class VoterClaim:
    """Credentials checked as far as possible without the roll: the rest is `REGISTERED_VOTER`."""

    voter_key: str
    birth_date: date
    scope: str
    only_region_id: int | None

    def parameters(self) -> dict:
        return {
            "voter_key": self.voter_key,
            "birth_date": self.birth_date,
            "scope": self.scope,
            "only_region": self.only_region_id,
        }


def voter_claim(cycle: Cycle, credentials: Credentials) -> VoterClaim:
    """What `REGISTERED_VOTER` needs to find the voter, or NotEligible for what fails already:
    malformed credentials, bad check digits, an age outside the cycle's bounds (the roll must
    hold the same birth date, so the claimed one decides; nothing about the roll is revealed)."""
    key = _checked_key(cycle, credentials)
    refusal = _age_refusal(cycle, credentials.birth_date)
    if refusal is not None:
        raise refusal
    return VoterClaim(key, credentials.birth_date, cycle.registry_scope, cycle.restrict_region_id)


# The rest of `find_eligible_voter` as SQL, so that casting by credentials can identify the voter
# inside its one statement (parameters from `VoterClaim.parameters`). Keep the two in step.
REGISTERED_VOTER = """
    SELECT r.region_id, r.school_id FROM registry_entry AS r
    WHERE r.scope = :scope AND r.voter_key = :voter_key AND r.birth_date = :birth_date
      AND (CAST(:only_region AS integer) IS NULL OR r.region_id = CAST(:only_region AS integer))
"""


def not_eligible(cycle: Cycle) -> NotEligible:
    """The one refusal for credentials the roll does not accept (reason kept internal)."""
    return _refuse(cycle, "not_found")


# --- Counts for coordinators ------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryCounts:
    """Size of a cycle's roll: every entry, and those eligible under its rules, by region.

    `kept` is True when the roll was purged after the tally: the counts are then the ones
    stored at the purge (`roll_count`), and `entries` is the eligible total."""

    scope: str
    entries: int
    eligible: int
    by_region: list[tuple[Region | None, int]]
    kept: bool = False


def _eligible_conditions(cycle: Cycle, on: date | None = None) -> list:
    scope = cycle.registry_scope
    conditions = [RegistryEntry.scope == scope]
    latest, too_early = (None, None) if is_delegate_scope(scope) else birth_bounds(cycle, on)
    if latest is not None:
        conditions.append(RegistryEntry.birth_date <= latest)
    if too_early is not None:
        conditions.append(RegistryEntry.birth_date > too_early)
    if cycle.restrict_region_id is not None:
        conditions.append(RegistryEntry.region_id == cycle.restrict_region_id)
    return conditions


def eligible_groups(cycle: Cycle) -> list[tuple[int | None, int | None, int]]:
    """(region id, school id, eligible) for the cycle's roll as it stands: what a purge keeps."""
    rows = db.session.execute(
        sa.select(RegistryEntry.region_id, RegistryEntry.school_id, sa.func.count())
        .where(*_eligible_conditions(cycle))
        .group_by(RegistryEntry.region_id, RegistryEntry.school_id)
    ).all()
    return [(region_id, school_id, int(n)) for region_id, school_id, n in rows]


def _by_region(rows) -> list[tuple[Region | None, int]]:
    regions = {r.id: r for r in db.session.scalars(sa.select(Region))}
    return sorted(
        ((regions.get(region_id), count) for region_id, count in rows),
        key=lambda pair: (pair[0] is None, pair[0].name if pair[0] else ""),
    )


def registry_counts(cycle: Cycle, on: date | None = None) -> RegistryCounts:
    """How many people the cycle's roll lets vote (ages and region applied), per region; once
    the roll is purged, the counts kept at the purge."""
    scope = cycle.registry_scope
    kept = db.session.execute(
        sa.select(RollCount.region_id, sa.func.sum(RollCount.eligible))
        .where(RollCount.cycle_id == cycle.id)
        .group_by(RollCount.region_id)
    ).all()
    if kept:
        rows = [(region_id, int(n)) for region_id, n in kept]
        total = sum(n for _, n in rows)
        return RegistryCounts(
            scope=scope, entries=total, eligible=total, by_region=_by_region(rows), kept=True
        )
    entries = db.session.scalar(
        sa.select(sa.func.count()).select_from(RegistryEntry).where(RegistryEntry.scope == scope)
    )
    rows = db.session.execute(
        sa.select(RegistryEntry.region_id, sa.func.count())
        .where(*_eligible_conditions(cycle, on))
        .group_by(RegistryEntry.region_id)
    ).all()
    return RegistryCounts(
        scope=scope,
        entries=entries,
        eligible=sum(c for _, c in rows),
        by_region=_by_region(rows),
    )
