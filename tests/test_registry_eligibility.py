"""Who may vote: roll lookup, one message for every refusal, ages, region, OPCA schools."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from validate_docbr import TituloEleitoral

from opdigital.errors import NotEligible
from opdigital.extensions import db
from opdigital.registry.credentials import Credentials
from opdigital.registry.keys import school_number, voter_key
from opdigital.registry.models import RegistryEntry
from opdigital.registry.services import (
    NOT_ELIGIBLE_MESSAGE,
    find_eligible_voter,
    identifier_key,
    reference_date,
    registry_counts,
)
from tests.support import factories
from tests.support.voting import wrong_check_digit

PEPPER = "testing-pepper"
GEN = TituloEleitoral()


def enrol(scope: str, identifier: str, born: date, region=None, school=None) -> RegistryEntry:
    entry = RegistryEntry(
        scope=scope,
        voter_key=voter_key(identifier, PEPPER),
        birth_date=born,
        region_id=region.id if region else None,
        school_id=school.id if school else None,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def refusal(cycle, credentials, on=None) -> NotEligible:
    with pytest.raises(NotEligible) as info:
        find_eligible_voter(cycle, credentials, on)
    return info.value


@pytest.fixture
def roll(app_ctx):
    """A city roll with one voter born 1990-06-15 in Centro-Sul."""
    centro = factories.region(slug="centro-sul")
    number = GEN.generate()
    entry = enrol("city", number, date(1990, 6, 15), region=centro)
    return number, entry, centro


def test_a_voter_on_the_roll_with_the_right_birth_date_is_eligible(roll):
    number, entry, centro = roll
    cycle = factories.cycle(min_voter_age=16)
    typed = f"{number[:4]} {number[4:8]} {number[8:]}"
    voter = find_eligible_voter(cycle, Credentials(birth_date=date(1990, 6, 15), titulo=typed))
    assert (voter.voter_key, voter.region_id, voter.school_id) == (entry.voter_key, centro.id, None)
    assert identifier_key(cycle, Credentials(date(2000, 1, 1), titulo=typed)) == entry.voter_key


def test_every_refusal_carries_the_same_message(roll):
    number, _, _ = roll
    cycle = factories.cycle()
    not_on_roll = next(n for n in iter(GEN.generate, None) if n != number)
    bad_digits = wrong_check_digit(number)
    cases = [
        ("birth_date", Credentials(birth_date=date(1990, 6, 16), titulo=number)),
        ("not_found", Credentials(birth_date=date(1990, 6, 15), titulo=not_on_roll)),
        ("titulo_invalid", Credentials(birth_date=date(1990, 6, 15), titulo=bad_digits)),
        ("malformed", Credentials(birth_date=date(1990, 6, 15), titulo="123")),
        ("malformed", Credentials(birth_date=date(1990, 6, 15))),
    ]
    errors = [refusal(cycle, creds) for _, creds in cases]
    assert [e.reason for e in errors] == [reason for reason, _ in cases]
    assert {str(e) for e in errors} == {str(NOT_ELIGIBLE_MESSAGE)}
    assert {(e.code, e.status) for e in errors} == {("not_eligible", 403)}
    # Nothing in the message or the error names the number.
    assert all(number not in repr(vars(e)) for e in errors)


def test_a_cycle_only_reads_its_own_roll(roll):
    number, _, centro = roll
    cycle = factories.cycle()
    cycle.registry_scope = f"cycle:{cycle.id}"
    db.session.commit()
    creds = Credentials(birth_date=date(1990, 6, 15), titulo=number)
    assert refusal(cycle, creds).reason == "not_found"
    enrol(cycle.registry_scope, number, date(1990, 6, 15), region=centro)
    assert find_eligible_voter(cycle, creds).region_id == centro.id


@pytest.mark.parametrize(
    ("born", "reason"),
    [
        (date(2010, 10, 1), None),  # 16 exactly on the reference date
        (date(2010, 10, 2), "too_young"),  # 16 one day later
        (date(1940, 1, 1), None),  # no maximum
    ],
)
def test_minimum_age_on_the_reference_date(app_ctx, born, reason):
    cycle = factories.cycle(min_voter_age=16, age_reference_date=date(2026, 10, 1))
    number = GEN.generate()
    enrol("city", number, born)
    creds = Credentials(birth_date=born, titulo=number)
    if reason is None:
        assert find_eligible_voter(cycle, creds)
    else:
        assert refusal(cycle, creds).reason == reason


@pytest.mark.parametrize(
    ("born", "reason"),
    [
        (date(2020, 3, 1), None),  # 6 on the day
        (date(2020, 3, 2), "too_young"),  # still 5
        (date(2010, 3, 2), None),  # 15, turning 16 tomorrow
        (date(2010, 3, 1), "too_old"),  # 16 on the day
    ],
)
def test_opca_age_band(app_ctx, born, reason):
    school = factories.school(slug="em-sol")
    cycle = factories.cycle(
        kind="opca", min_voter_age=6, max_voter_age=15, age_reference_date=date(2026, 3, 1)
    )
    cycle.registry_scope = f"cycle:{cycle.id}"
    db.session.commit()
    enrol(cycle.registry_scope, "em-sol:42", born, region=school.region, school=school)
    creds = Credentials(birth_date=born, school="em-sol", enrolment="0042")
    if reason is None:
        voter = find_eligible_voter(cycle, creds)
        assert (voter.school_id, voter.region_id) == (school.id, school.region_id)
    else:
        assert refusal(cycle, creds).reason == reason


def test_opca_pupils_identify_by_school_and_enrolment(app_ctx):
    sol, lua = factories.school(slug="em-sol"), factories.school(slug="em-lua")
    cycle = factories.cycle(kind="opca", min_voter_age=6, max_voter_age=15)
    cycle.registry_scope = f"cycle:{cycle.id}"
    db.session.commit()
    born = date(2015, 5, 5)
    enrol(cycle.registry_scope, school_number("em-sol", "123"), born, sol.region, sol)
    on = date(2026, 5, 5)
    assert find_eligible_voter(cycle, Credentials(born, school="EM-SOL", enrolment="123"), on)
    other_school = refusal(cycle, Credentials(born, school="em-lua", enrolment="123"), on)
    wrong_birth = refusal(
        cycle, Credentials(date(2015, 5, 6), school="em-sol", enrolment="123"), on
    )
    no_enrolment = refusal(cycle, Credentials(born, school="em-sol"), on)
    titulo_only = refusal(cycle, Credentials(born, titulo=GEN.generate()), on)
    assert [e.reason for e in (other_school, wrong_birth, no_enrolment, titulo_only)] == [
        "not_found",
        "birth_date",
        "malformed",
        "malformed",
    ]
    assert len({str(e) for e in (other_school, wrong_birth, no_enrolment, titulo_only)}) == 1
    assert "enrolment" in str(other_school)
    assert lua.id  # a second school exists, yet its pupil number 123 is someone else


def test_region_restriction(app_ctx):
    centro, barreiro = factories.region(), factories.region()
    cycle = factories.cycle(kind="op-regional", restrict_region_id=barreiro.id)
    resident, outsider = GEN.generate(), GEN.generate()
    enrol("city", resident, date(1980, 1, 1), region=barreiro)
    enrol("city", outsider, date(1980, 1, 1), region=centro)
    assert find_eligible_voter(cycle, Credentials(date(1980, 1, 1), titulo=resident))
    error = refusal(cycle, Credentials(date(1980, 1, 1), titulo=outsider))
    assert error.reason == "region" and str(error) == str(NOT_ELIGIBLE_MESSAGE)


def test_reference_date_defaults_to_the_voting_phase_first_day_in_city_time(app_ctx):
    # 02:00 UTC on 1 October is still 30 September in Belo Horizonte (UTC-3).
    opens = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    cycle = factories.cycle(
        min_voter_age=16,
        phases=[("proposals", opens - timedelta(days=60), opens - timedelta(days=30)),
                ("voting", opens, opens + timedelta(days=14))],
    )  # fmt: skip
    assert reference_date(cycle) == date(2026, 9, 30)
    on_the_day, day_after = GEN.generate(), GEN.generate()
    enrol("city", on_the_day, date(2010, 9, 30))
    enrol("city", day_after, date(2010, 10, 1))
    assert find_eligible_voter(cycle, Credentials(date(2010, 9, 30), titulo=on_the_day))
    assert refusal(cycle, Credentials(date(2010, 10, 1), titulo=day_after)).reason == "too_young"
    # With neither setting nor voting phase, the day asked about (or today) counts.
    bare = factories.cycle(min_voter_age=16)
    assert reference_date(bare, date(2026, 10, 1)) == date(2026, 10, 1)
    assert find_eligible_voter(bare, Credentials(date(2010, 10, 1), day_after), date(2026, 10, 1))


def test_leap_day_birthdays(app_ctx):
    # Born on 29 February: in a common year the birthday counts from 1 March.
    born = date(2012, 2, 29)
    leapling = GEN.generate()
    enrol("city", leapling, born)
    creds = Credentials(born, titulo=leapling)
    on_leap_day = factories.cycle(min_voter_age=16, age_reference_date=date(2028, 2, 29))
    assert find_eligible_voter(on_leap_day, creds)
    day_before = factories.cycle(min_voter_age=16, age_reference_date=date(2028, 2, 28))
    assert refusal(day_before, creds).reason == "too_young"
    common_year = factories.cycle(min_voter_age=17, age_reference_date=date(2029, 2, 28))
    assert refusal(common_year, creds).reason == "too_young"
    march = factories.cycle(min_voter_age=17, age_reference_date=date(2029, 3, 1))
    assert find_eligible_voter(march, creds)


def test_registry_counts_apply_the_cycle_rules(app_ctx):
    norte, leste = factories.region(name="Norte"), factories.region(name="Leste")
    for born, region in [
        (date(1980, 1, 1), norte),
        (date(1990, 1, 1), norte),
        (date(2012, 1, 1), norte),  # too young for 16+
        (date(1970, 1, 1), leste),
    ]:
        enrol("city", GEN.generate(), born, region=region)
    enrol("cycle:999", GEN.generate(), date(1980, 1, 1), region=leste)  # another roll
    cycle = factories.cycle(min_voter_age=16, age_reference_date=date(2026, 10, 1))
    counts = registry_counts(cycle)
    assert (counts.scope, counts.entries, counts.eligible) == ("city", 4, 3)
    assert counts.by_region == [(leste, 1), (norte, 2)]
    regional = factories.cycle(min_voter_age=16, restrict_region_id=leste.id)
    assert registry_counts(regional, date(2026, 10, 1)).by_region == [(leste, 1)]
