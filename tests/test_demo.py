"""`opdigital demo`: idempotent, and the city's content (docs/domain.md; docs/architecture.md)."""

from __future__ import annotations

import importlib
import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from opdigital import settings
from opdigital.accounts.services import authenticate
from opdigital.audit.models import AuditEntry
from opdigital.clock import CITY_TZ, now
from opdigital.cycles.models import Cycle, Event, Phase, RegionBudget
from opdigital.demo.loader import ACCOUNTS, DemoRefused, load_demo
from opdigital.demo.voters import DEMO_VOTERS, demo_titulo
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalHistory
from opdigital.regions.models import Region, School
from opdigital.registry.models import RegistryEntry
from tests.support.production import SETTINGS_VARIABLES, full_production

TABLES = [
    Region,
    School,
    Cycle,
    Phase,
    Event,
    RegionBudget,
    Proposal,
    ProposalHistory,
    AuditEntry,
    RegistryEntry,
]
REGION_SLUGS = {
    "barreiro",
    "centro-sul",
    "leste",
    "nordeste",
    "noroeste",
    "norte",
    "oeste",
    "pampulha",
    "venda-nova",
}


def row_counts() -> dict[str, int]:
    from opdigital.accounts.models import User

    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in [*TABLES, User]
    }


def get_cycle(slug: str) -> Cycle:
    return db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug))


def cycle_proposals(cycle: Cycle) -> list[Proposal]:
    return list(
        db.session.scalars(
            sa.select(Proposal).where(Proposal.cycle_id == cycle.id).order_by(Proposal.code)
        )
    )


@pytest.fixture
def demo(app_ctx):
    return load_demo()


def test_demo_command_twice_changes_nothing(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = row_counts()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert row_counts() == counts
    assert counts["region"] == 9
    assert counts["cycle"] == 4
    assert counts["user_account"] == len(ACCOUNTS) + 1  # and the Comforça member (demo/works.py)
    assert counts["proposal"] == 36 + 19 + 12 + 16
    assert counts["event"] == 45 + 17
    assert counts["registry_entry"] == len(DEMO_VOTERS)
    assert "Demo voters: 12 added" in first.output
    assert "Demo voters: 0 added, 12 already present" in second.output
    # The first run prints the demo passwords; the second finds everything already there.
    for account in ACCOUNTS:
        assert account.password in first.output
        assert account.password not in second.output
    assert "DEMO ONLY" in first.output
    for slug in ("op-digital-2026", "op-digital-2024", "op-regional-2027-2028", "opca-2026"):
        assert f"Cycle {slug}: created" in first.output
        assert f"Cycle {slug}: already present" in second.output
    assert "Regions: 0 created, 9 already present." in second.output


@pytest.fixture
def production(monkeypatch, make_app, database_url, redis_url, tmp_path):
    """An app built as `OPDIGITAL_CONFIG=production` would build it, on the test database.

    Settings are read from the environment when `opdigital.settings` is imported (see
    test_config.py).
    """
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    variables = full_production(DATABASE_URL=database_url, REDIS_URL=redis_url)
    for name, value in (variables | {"OPDIGITAL_CONFIG": "production"}).items():
        monkeypatch.setenv(name, value)
    importlib.reload(settings)
    yield make_app(None, SIGNING_KEY_PATH=str(tmp_path / "signing-key.pem"))
    monkeypatch.undo()
    importlib.reload(settings)


def test_demo_is_refused_with_the_production_settings(production, tmp_path):
    assert production.config["CONFIG_NAME"] == "production"
    result = production.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 2, result.output
    assert "Refusing to load the demo data with OPDIGITAL_CONFIG=production" in result.output
    assert "published passwords" in result.output
    for account in ACCOUNTS:
        assert account.password not in result.output
    with production.app_context():
        assert set(row_counts().values()) == {0}  # nothing created, not even an account
    assert not (tmp_path / "signing-key.pem").exists()  # and no signing key made
    # Called directly, the loader refuses too.
    with production.app_context(), pytest.raises(DemoRefused):
        load_demo()


def test_a_cycle_already_present_is_left_untouched(app_ctx):
    load_demo()
    cycle = get_cycle("opca-2026")
    cycle.title = "Título mudado pela coordenação"
    db.session.delete(cycle.events[0])
    db.session.commit()
    events = len(cycle.events)
    load_demo()
    db.session.expire_all()
    cycle = get_cycle("opca-2026")
    assert cycle.title == "Título mudado pela coordenação"
    assert len(cycle.events) == events


def test_regions_have_populations_and_need_ordered_by_quality_of_life(demo):
    regions = {r.slug: r for r in db.session.scalars(sa.select(Region))}
    assert set(regions) == REGION_SLUGS
    assert all(200_000 < r.population < 320_000 for r in regions.values())
    assert sum(r.population for r in regions.values()) == pytest.approx(2_375_000, rel=0.01)
    by_need = sorted(regions.values(), key=lambda r: r.need_index)
    assert by_need[0].slug == "centro-sul"
    assert {r.slug for r in by_need[-3:]} == {"barreiro", "norte", "venda-nova"}


def test_op_digital_2026_has_36_works_on_the_ballot_and_voting_open_now(demo):
    cycle = get_cycle("op-digital-2026")
    assert cycle.kind == "op-digital"
    assert cycle.state == "voting"
    assert cycle.total_budget_cents == 50_000_000_00
    assert (cycle.ballot_rule, cycle.counting_rule) == ("one-per-region", "plurality-per-region")
    assert cycle.min_voter_age == 16
    assert cycle.ballot_frozen_at is not None

    works = cycle_proposals(cycle)
    assert len(works) == 36
    assert {w.status for w in works} == {"on_ballot"}
    per_region = Counter(w.region.slug for w in works)
    assert set(per_region) == REGION_SLUGS
    assert set(per_region.values()) == {4}
    assert len({w.title for w in works}) == 36

    # Each region's budget comes from the formula and every work fits in its region's share.
    budgets = {rb.region_id: rb.amount_cents for rb in cycle.region_budgets}
    assert cycle.budget_split == "formula"
    assert sum(budgets.values()) == cycle.total_budget_cents
    assert all(w.cost_cents <= budgets[w.region_id] for w in works)

    # Reached through the real services: public history and audit log.
    steps = [h.to_status for h in works[0].history]
    assert steps == ["submitted", "under_review", "accepted", "on_ballot"]
    transitions = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "cycle.transition", AuditEntry.object_id == cycle.slug)
        .order_by(AuditEntry.id)
    ).all()
    assert [t.after["state"] for t in transitions] == [
        "open_for_proposals",
        "under_review",
        "ballot_frozen",
        "voting",
    ]
    assert {t.actor_email for t in transitions} == {"admin@demo.opdigital.local"}

    voting = cycle.phase_of_kind("voting")
    assert voting.is_open(now())
    assert [p.kind for p in cycle.current_phases()] == ["voting"]
    for phase in cycle.phases:
        if phase.position < voting.position:
            assert phase.status() == "past"
        elif phase.position > voting.position:
            assert phase.status() == "upcoming"


def test_voting_starts_at_midnight_of_today_in_belo_horizonte(app_ctx, time_machine):
    # 23:30 on 24 November in Belo Horizonte is already 25 November in UTC.
    time_machine.move_to(datetime(2026, 11, 25, 2, 30, tzinfo=UTC), tick=False)
    load_demo()
    voting = get_cycle("op-digital-2026").phase_of_kind("voting")
    assert voting.starts_at.astimezone(CITY_TZ) == datetime(2026, 11, 24, tzinfo=CITY_TZ)
    assert voting.ends_at.astimezone(CITY_TZ) == datetime(2026, 12, 24, tzinfo=CITY_TZ)
    assert voting.is_open(now())


def test_op_regional_has_every_kind_of_meeting_in_every_region(demo):
    cycle = get_cycle("op-regional-2027-2028")
    assert cycle.kind == "op-regional"
    assert cycle.state == "open_for_proposals"
    kinds_by_region = Counter((e.region.slug, e.kind) for e in cycle.events)
    for slug in REGION_SLUGS:
        assert kinds_by_region[(slug, "assembly")] >= 2
        for kind in ("caravan", "regional_forum", "comforca_election"):
            assert kinds_by_region[(slug, kind)] >= 1
    assert all(e.place.strip() for e in cycle.events)
    # Spread over the coming months, each event inside the cycle's calendar.
    upcoming = [e for e in cycle.events if e.status() == "upcoming"]
    assert len(upcoming) >= 27
    assert max(e.starts_at for e in cycle.events) - now() > timedelta(days=90)
    phase_bounds = (cycle.phases[0].starts_at, cycle.phases[-1].ends_at)
    assert all(phase_bounds[0] <= e.starts_at < phase_bounds[1] for e in cycle.events)
    # Forums happen during the forum phase, caravans during the caravans phase.
    forum_phase, caravan_phase = cycle.phase_of_kind("voting"), cycle.phase_of_kind("caravans")
    for event in cycle.events:
        if event.kind == "regional_forum":
            assert forum_phase.is_open(event.starts_at)
        if event.kind == "caravan":
            assert caravan_phase.is_open(event.starts_at)

    demands = cycle_proposals(cycle)
    assert demands
    assert {p.origin for p in demands} == {"assembly"}
    assert all(p.region_id is not None for p in demands)


def test_opca_has_schools_with_assemblies_and_demands(demo):
    cycle = get_cycle("opca-2026")
    assert cycle.kind == "opca"
    assert (cycle.min_voter_age, cycle.max_voter_age) == (6, 15)
    assert [p.kind for p in cycle.phases] == [
        "assemblies",
        "proposals",
        "review",
        "voting",
        "results",
        "monitoring",
    ]
    schools = list(db.session.scalars(sa.select(School)))
    assert 6 <= len(schools) <= 9
    assert len({s.region_id for s in schools}) >= 6
    assert all(s.name.startswith("Escola Municipal") for s in schools)
    assemblies = Counter(e.school_id for e in cycle.events if e.kind == "school_assembly")
    assert set(assemblies) == {s.id for s in schools}
    assert any(e.kind == "delegates_meeting" for e in cycle.events)
    demands = cycle_proposals(cycle)
    per_school = Counter(p.school_id for p in demands)
    assert set(per_school) == {s.id for s in schools}
    assert all(p.region_id == p.school.region_id for p in demands)


def test_past_cycle_shows_the_execution_of_its_selected_works(demo):
    cycle = get_cycle("op-digital-2024")
    assert cycle.state == "monitoring"
    assert cycle.phase_of_kind("monitoring").is_open(now())
    assert cycle.phase_of_kind("voting").ends_at.date() < date(2025, 1, 1)
    works = cycle_proposals(cycle)
    selected = [w for w in works if w.status == "selected"]
    assert Counter(w.region.slug for w in selected) == Counter(REGION_SLUGS)
    statuses = Counter(w.execution_status for w in selected)
    assert set(statuses) == {"not_started", "tendering", "in_works", "done", "cancelled"}
    cancelled = next(w for w in selected if w.execution_status == "cancelled")
    assert cancelled.execution_note
    done = next(w for w in selected if w.execution_status == "done")
    assert [h.to_status for h in done.history if h.track == "execution"] == [
        "tendering",
        "in_works",
        "done",
    ]
    rejected = [w for w in works if w.status == "rejected"]
    assert len(rejected) == 1 and rejected[0].rejection_reason
    assert all(w.execution_status is None for w in works if w.status == "not_selected")


def test_the_2024_works_are_on_the_map_with_milestones_photos_and_a_comforca_report(demo, client):
    from PIL import Image

    from opdigital.works.models import MonitoringReport, WorkMilestone, WorkPhoto
    from opdigital.works.progress import Step, progress

    cycle = get_cycle("op-digital-2024")
    selected = [w for w in cycle_proposals(cycle) if w.status == "selected"]
    assert all(w.has_location and w.department for w in selected)
    today = date.today()
    figures = {}
    for work in selected:
        steps = db.session.scalars(
            sa.select(WorkMilestone).where(WorkMilestone.proposal_id == work.id)
        ).all()
        assert len(steps) == 5
        figures[work.execution_status] = progress(
            [Step(s.planned_on, s.done_on, s.weight) for s in steps], today, work.execution_status
        )
    assert figures["done"].percent == 100 and not figures["done"].late
    assert 0 < figures["in_works"].percent < 100 and figures["in_works"].late
    photos = db.session.scalars(sa.select(WorkPhoto).where(WorkPhoto.report_id.is_(None))).all()
    assert {p.proposal.execution_status for p in photos} == {"in_works", "done"}
    # Drawn, then processed like an upload: a JPEG without metadata.
    image = Image.open(io.BytesIO(photos[0].image))
    assert image.format == "JPEG" and not image.getexif()
    reports = db.session.scalars(sa.select(MonitoringReport)).all()
    assert sorted(r.status for r in reports) == ["approved", "pending"]
    assert all(r.proposal.region.slug == "barreiro" for r in reports)
    page = client.get(f"/propostas/{reports[0].proposal.code}")
    assert page.status_code == 200
    assert "Visitamos a obra com moradores do bairro" in page.get_data(as_text=True)
    assert "Os bancos perto do parquinho" not in page.get_data(as_text=True)  # not approved


def test_demo_accounts_sign_in_with_the_printed_passwords(demo):
    for account in ACCOUNTS:
        line = next(line for line in demo if account.email in line)
        assert account.password in line
        user = authenticate(account.email, account.password)
        assert user is not None and user.role == account.role


def test_a_demo_voter_can_vote_in_op_digital_2026(app, client):
    with app.app_context():
        load_demo()
        cycle = get_cycle("op-digital-2026")
        # One work in each of two regions: the 2011 rule (at most one per region).
        by_region: dict[int, int] = {}
        for proposal in cycle_proposals(cycle):
            by_region.setdefault(proposal.region_id, proposal.id)
        choices = list(by_region.values())[:2]
    sequential, born, _region = DEMO_VOTERS[0]
    body = {
        "credentials": {"titulo": demo_titulo(sequential), "birth_date": born.isoformat()},
        "choices": choices,
    }
    response = client.post("/api/v1/cycles/op-digital-2026/ballots", json=body)
    assert response.status_code == 201, response.get_json()
    assert client.post("/api/v1/cycles/op-digital-2026/ballots", json=body).status_code == 409


def test_past_cycle_results_come_from_a_published_signed_tally(demo, client, tmp_path):
    from opdigital.ledger.verify import main as verify

    cycle = get_cycle("op-digital-2024")
    package = client.get("/api/v1/cycles/op-digital-2024/tally.zip")
    assert package.status_code == 200
    path = tmp_path / "tally.zip"
    path.write_bytes(package.data)
    assert verify([str(path), "--quiet"]) == 0
    result = client.get("/api/v1/cycles/op-digital-2024/results").get_json()["result"]
    selected = {w.id for w in cycle_proposals(cycle) if w.status == "selected"}
    assert set(result["selected"]) == selected
    assert result["ballots"] == result["participation"] > 0
    assert client.get("/ciclos/op-digital-2024/resultados").status_code == 200
