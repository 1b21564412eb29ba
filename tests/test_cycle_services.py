"""Cycle creation from templates, calendar edits, budgets and the frozen ballot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import CITY_TZ
from opdigital.cycles import services
from opdigital.cycles.models import Cycle
from opdigital.cycles.phase_templates import TEMPLATES
from opdigital.errors import BallotLocked, Conflict, ValidationFailed
from opdigital.extensions import db
from tests import factories


def _data(**overrides) -> services.CycleData:
    values = {
        "slug": "op-digital-2027",
        "kind": "op-digital",
        "title": "OP Digital 2027",
        "edition": 2027,
        "total_budget_cents": 50_000_000_00,
    }
    return services.CycleData(**(values | overrides))


@pytest.mark.parametrize("kind", ["op-digital", "op-regional", "opca"])
def test_create_cycle_from_its_kind_template(app_ctx, kind):
    actor = factories.user("coordinator")
    cycle = services.create_cycle(_data(kind=kind), date(2027, 3, 1), actor)
    assert cycle.state == "draft"
    assert [p.kind for p in cycle.phases] == [t.kind for t in TEMPLATES[kind]]
    first = cycle.phases[0]
    assert first.starts_at == datetime(2027, 3, 1, tzinfo=CITY_TZ)
    assert first.starts_at.utcoffset() == timedelta(0)  # stored and returned in UTC
    assert first.starts_at.astimezone(CITY_TZ).hour == 0
    entry = db.session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.object_id) == ("cycle.create", "op-digital-2027")


def test_duplicate_slug_is_a_conflict(app_ctx):
    actor = factories.user("coordinator")
    services.create_cycle(_data(), date(2027, 3, 1), actor)
    with pytest.raises(Conflict):
        services.create_cycle(_data(), date(2027, 3, 1), actor)
    assert db.session.scalar(sa.select(sa.func.count(Cycle.id))) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"slug": "Bad Slug"},
        {"slug": ""},
        {"kind": "referendum"},
        {"title": "  "},
        {"edition": 12},
        {"total_budget_cents": -1},
        {"min_voter_age": 18, "max_voter_age": 16},
        {"min_voter_age": -3},
    ],
)
def test_invalid_cycle_data_is_refused(app_ctx, overrides):
    with pytest.raises(ValidationFailed):
        services.create_cycle(_data(**overrides), date(2027, 3, 1), factories.user())
    assert db.session.scalar(sa.select(sa.func.count(Cycle.id))) == 0


def test_phase_window_edges(app_ctx, time_machine):
    start = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # midnight in Belo Horizonte
    end = datetime(2026, 12, 31, 3, 0, tzinfo=UTC)
    cycle = factories.cycle(phases=[("voting", start, end)])
    phase = cycle.phases[0]
    for moment, expected in [
        (start - timedelta(microseconds=1), "upcoming"),
        (start, "current"),
        (end - timedelta(microseconds=1), "current"),
        (end, "past"),
    ]:
        time_machine.move_to(moment, tick=False)
        assert phase.status() == expected, moment
        assert phase.is_open(moment) == (expected == "current")
        assert (cycle.current_phases() == [phase]) == (expected == "current")


def test_phase_must_end_after_it_starts(app_ctx):
    cycle = factories.cycle()
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationFailed):
        services.add_phase(
            cycle, services.PhaseData("voting", "Votação", moment, moment), factories.user()
        )
    with pytest.raises(ValidationFailed):
        naive = datetime(2027, 1, 1)
        services.add_phase(
            cycle,
            services.PhaseData("voting", "Votação", naive, naive + timedelta(days=1)),
            factories.user(),
        )


def test_event_with_unknown_region_is_refused(app_ctx):
    cycle = factories.cycle()
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    data = services.EventData(
        "assembly", "Assembleia", moment, moment + timedelta(hours=2), region_id=999
    )
    with pytest.raises(ValidationFailed):
        services.add_event(cycle, data, factories.user())


def test_formula_budgets_add_up_and_are_audited(app_ctx):
    for name, population, need in [("a", 300_000, 1.0), ("b", 100_000, 2.0), ("c", 100_000, 1.0)]:
        factories.region(slug=name, name=name.upper(), population=population, need_index=need)
    cycle = factories.cycle(total_budget_cents=900_00)
    amounts = services.apply_budget_formula(cycle, 50, factories.user())
    assert sorted(amounts.values()) == [225_00, 300_00, 375_00]
    assert sum(services.region_budgets(cycle).values()) == 900_00
    assert cycle.budget_split == "formula"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "cycle.budgets"))
    assert entry.after["equal_share_percent"] == 50


def test_manual_budgets_cannot_exceed_the_total(app_ctx):
    region = factories.region()
    cycle = factories.cycle(total_budget_cents=100_00)
    with pytest.raises(ValidationFailed):
        services.set_region_budgets(cycle, {region.id: 100_01}, factories.user())
    services.set_region_budgets(cycle, {region.id: 100_00}, factories.user())
    assert services.region_budgets(cycle) == {region.id: 100_00}


def test_frozen_ballot_refuses_budget_and_eligibility_changes(app_ctx):
    region = factories.region()
    cycle = factories.cycle(state="voting", total_budget_cents=100_00)
    actor = factories.user()
    with pytest.raises(BallotLocked):
        services.set_region_budgets(cycle, {region.id: 50_00}, actor)
    with pytest.raises(BallotLocked):
        services.apply_budget_formula(cycle, 50, actor)
    with pytest.raises(BallotLocked):
        services.update_cycle(cycle, _data(slug=cycle.slug, total_budget_cents=1), actor)
    # The description can still be corrected.
    same = _data(
        slug=cycle.slug, title="Novo título", total_budget_cents=100_00, edition=cycle.edition
    )
    services.update_cycle(cycle, same, actor)
    assert cycle.title == "Novo título"


def test_total_cannot_drop_below_what_regions_already_have(app_ctx):
    region = factories.region()
    cycle = factories.cycle(total_budget_cents=100_00)
    actor = factories.user()
    services.set_region_budgets(cycle, {region.id: 80_00}, actor)
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_cycle(
            cycle, _data(slug=cycle.slug, total_budget_cents=79_99, edition=cycle.edition), actor
        )
    assert excinfo.value.code == "total_below_allocated"
    assert cycle.total_budget_cents == 100_00
