"""Cycle creation from templates, calendar edits, budgets and the frozen ballot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import CITY_TZ
from opdigital.cycles import schedule_items, services
from opdigital.cycles.models import Cycle
from opdigital.cycles.phase_templates import TEMPLATES
from opdigital.errors import BallotLocked, Conflict, ValidationFailed
from opdigital.extensions import db
from tests.support import factories


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
        schedule_items.add_item(
            cycle, schedule_items.PhaseData("voting", "Votação", moment, moment), factories.user()
        )
    with pytest.raises(ValidationFailed):
        naive = datetime(2027, 1, 1)
        schedule_items.add_item(
            cycle,
            schedule_items.PhaseData("voting", "Votação", naive, naive + timedelta(days=1)),
            factories.user(),
        )


def test_event_with_unknown_region_is_refused(app_ctx):
    cycle = factories.cycle()
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    data = schedule_items.EventData(
        "assembly", "Assembleia", moment, moment + timedelta(hours=2), region_id=999
    )
    with pytest.raises(ValidationFailed):
        schedule_items.add_item(cycle, data, factories.user())


def test_a_blank_position_puts_a_new_phase_last_and_leaves_an_edited_one_in_place(app_ctx):
    start = datetime(2027, 1, 1, tzinfo=UTC)
    cycle = factories.cycle(
        phases=[
            ("proposals", start, start + timedelta(days=30)),
            ("review", start + timedelta(days=30), start + timedelta(days=60)),
        ]
    )
    actor = factories.user()
    window = (start + timedelta(days=60), start + timedelta(days=70))
    added = schedule_items.add_item(
        cycle, schedule_items.PhaseData("voting", "Votação", *window), actor
    )
    assert added.position == 2
    first = cycle.phases[0]
    schedule_items.update_item(first, _phase_data(first, name="Propostas", position=None), actor)
    assert (first.name, first.position) == ("Propostas", 0)
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.before["position"], entry.after["position"]) == (
        "phase.update",
        0,
        0,
    )


def test_a_phase_is_not_changed_with_an_event_s_data(app_ctx):
    start = datetime(2027, 1, 1, tzinfo=UTC)
    cycle = factories.cycle(phases=[("proposals", start, start + timedelta(days=30))])
    data = schedule_items.EventData("assembly", "Assembleia", start, start + timedelta(hours=2))
    with pytest.raises(TypeError):
        schedule_items.update_item(cycle.phases[0], data, factories.user())


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


# --- a published cycle's schedule is history ------------------------------------------------

HISTORY_STATES = ["voting", "closed", "tallied", "published", "monitoring"]


def _schedule(state: str):
    """A cycle whose proposals phase is over, vote running and monitoring ahead, with events."""
    now = datetime.now(UTC)
    cycle = factories.cycle(
        state=state,
        phases=[
            ("proposals", now - timedelta(days=60), now - timedelta(days=30)),
            ("voting", now - timedelta(days=1), now + timedelta(days=9)),
            ("monitoring", now + timedelta(days=20), now + timedelta(days=400)),
        ],
    )
    past_event = factories.event(cycle, starts_at=now - timedelta(days=40))
    future_event = factories.event(cycle, starts_at=now + timedelta(days=30))
    return cycle, past_event, future_event


def _phase_data(phase, **changes) -> schedule_items.PhaseData:
    values = {
        "kind": phase.kind,
        "name": phase.name,
        "starts_at": phase.starts_at,
        "ends_at": phase.ends_at,
        "position": phase.position,
    }
    return schedule_items.PhaseData(**(values | changes))


def _event_data(event, **changes) -> schedule_items.EventData:
    values = {
        "kind": event.kind,
        "title": event.title,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "place": event.place,
    }
    return schedule_items.EventData(**(values | changes))


def _refused(call) -> None:
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    with pytest.raises(Conflict) as refused:
        call()
    assert refused.value.code == "schedule_frozen"
    assert refused.value.status == 409
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == before


@pytest.mark.parametrize("state", HISTORY_STATES)
def test_once_the_vote_opened_what_has_begun_cannot_change(app_ctx, state):
    cycle, past_event, _future = _schedule(state)
    proposals_phase, voting, _monitoring = cycle.phases
    actor = factories.user()
    _refused(lambda: schedule_items.delete_item(proposals_phase, actor))
    _refused(
        lambda: schedule_items.update_item(
            proposals_phase, _phase_data(proposals_phase, name="X"), actor
        )
    )
    _refused(lambda: schedule_items.delete_item(past_event, actor))
    _refused(
        lambda: schedule_items.update_item(past_event, _event_data(past_event, title="X"), actor)
    )
    # The vote's own window: voters were told it, casts are checked against it.
    later = voting.ends_at + timedelta(days=5)
    _refused(lambda: schedule_items.update_item(voting, _phase_data(voting, ends_at=later), actor))
    _refused(lambda: schedule_items.delete_item(voting, actor))
    db.session.expire_all()
    assert len(cycle.phases) == 3 and len(cycle.events) == 2
    assert cycle.phases[0].name == "Proposals"


@pytest.mark.parametrize("state", HISTORY_STATES)
def test_once_the_vote_opened_only_what_is_ahead_may_change(app_ctx, state):
    cycle, _past, future_event = _schedule(state)
    monitoring = cycle.phases[2]
    actor = factories.user()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    _refused(
        lambda: schedule_items.add_item(
            cycle,
            _event_data(future_event, starts_at=yesterday, ends_at=yesterday + timedelta(hours=2)),
            actor,
        )
    )
    _refused(
        lambda: schedule_items.update_item(
            future_event, _event_data(future_event, starts_at=yesterday), actor
        )
    )
    _refused(
        lambda: schedule_items.update_item(
            monitoring, _phase_data(monitoring, starts_at=yesterday), actor
        )
    )
    ahead = datetime.now(UTC) + timedelta(days=100)
    _refused(
        lambda: schedule_items.add_item(
            cycle,
            schedule_items.PhaseData("voting", "Segundo turno", ahead, ahead + timedelta(days=1)),
            actor,
        )
    )
    _refused(
        lambda: schedule_items.update_item(
            monitoring, _phase_data(monitoring, kind="voting"), actor
        )
    )

    # What is still ahead may change: a Comforça meeting added and moved, monitoring extended.
    meets = datetime.now(UTC) + timedelta(days=50)
    meeting = schedule_items.add_item(
        cycle,
        schedule_items.EventData("other", "Reunião da Comforça", meets, meets + timedelta(hours=2)),
        actor,
    )
    week_later = _event_data(
        meeting, starts_at=meets + timedelta(days=7), ends_at=meets + timedelta(days=7, hours=2)
    )
    schedule_items.update_item(meeting, week_later, actor)
    schedule_items.delete_item(future_event, actor)
    new_end = monitoring.ends_at + timedelta(days=365)
    schedule_items.update_item(monitoring, _phase_data(monitoring, ends_at=new_end), actor)
    db.session.expire_all()
    assert [e.title for e in cycle.events] == ["Assembleia", "Reunião da Comforça"]
    assert cycle.phases[2].ends_at == new_end
    schedule_items.delete_item(monitoring, actor)
    db.session.expire_all()
    assert [p.kind for p in cycle.phases] == ["proposals", "voting"]


def test_a_draft_calendar_is_a_plan(app_ctx):
    cycle, past_event, _future = _schedule("draft")
    assert not schedule_items.schedule_is_history(cycle)
    proposals_phase, voting, _monitoring = cycle.phases
    actor = factories.user()
    later = voting.ends_at + timedelta(days=5)
    schedule_items.update_item(voting, _phase_data(voting, ends_at=later), actor)
    schedule_items.update_item(
        past_event, _event_data(past_event, title="Assembleia (corrigida)"), actor
    )
    schedule_items.delete_item(proposals_phase, actor)
    db.session.expire_all()
    assert [p.kind for p in cycle.phases] == ["voting", "monitoring"]
    assert cycle.phases[0].ends_at == later


@pytest.mark.parametrize("state", ["open_for_proposals", "under_review", "ballot_frozen"])
def test_a_public_cycle_keeps_its_past_but_may_still_postpone_its_vote(app_ctx, state):
    cycle, past_event, _future = _schedule(state)
    assert schedule_items.schedule_is_history(cycle)
    proposals_phase, voting, _monitoring = cycle.phases
    actor = factories.user()
    _refused(lambda: schedule_items.delete_item(proposals_phase, actor))
    _refused(
        lambda: schedule_items.update_item(
            past_event, _event_data(past_event, title="Assembleia (corrigida)"), actor
        )
    )
    # The vote has not opened: its window may still move.
    later = voting.ends_at + timedelta(days=5)
    schedule_items.update_item(voting, _phase_data(voting, ends_at=later), actor)
    db.session.expire_all()
    assert [p.kind for p in cycle.phases] == ["proposals", "voting", "monitoring"]
    assert cycle.phases[1].ends_at == later
    assert [e.title for e in cycle.events][0] == past_event.title


def test_schedule_item_fixed_tells_the_page_what_it_may_offer(app_ctx):
    cycle, past_event, future_event = _schedule("published")
    assert [schedule_items.schedule_item_fixed(p) for p in cycle.phases] == [True, True, False]
    assert schedule_items.schedule_item_fixed(past_event)
    assert not schedule_items.schedule_item_fixed(future_event)
    draft, past_draft_event, _ = _schedule("draft")
    assert not any(schedule_items.schedule_item_fixed(p) for p in draft.phases)
    assert not schedule_items.schedule_item_fixed(past_draft_event)
    before_the_vote, past, _ = _schedule("ballot_frozen")
    assert [schedule_items.schedule_item_fixed(p) for p in before_the_vote.phases] == [
        True,
        False,
        False,
    ]
    assert schedule_items.schedule_item_fixed(past)
