"""Works in every situation, for the tests of the "Obras do OP" list, its CSV, API and feeds.

No tests here. `world()` builds two regions (one with a school), works of two public editions
and kinds in every execution status (one late, one on schedule, a school's work counted in its
school's region, a city-wide one), and works that must never be listed: a draft cycle's, one
of a cycle whose result is not known yet, and a proposal not selected.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from opdigital.clock import today_in_city
from opdigital.extensions import db
from opdigital.proposals.models import HistoryTrack, ProposalHistory
from opdigital.works.models import WorkMilestone
from tests.support import factories

RECORDED = datetime(2025, 3, 1, 15, tzinfo=UTC)


def milestone(proposal, title: str, planned_days: int, done_days: int | None = None, **extra):
    """A milestone planned `planned_days` from today (negative: in the past), done `done_days`
    from today (None: not done)."""
    today = today_in_city()
    step = WorkMilestone(
        proposal_id=proposal.id,
        title=title,
        planned_on=today + timedelta(days=planned_days),
        done_on=None if done_days is None else today + timedelta(days=done_days),
        **extra,
    )
    db.session.add(step)
    db.session.commit()
    return step


def execution(proposal, to_status: str, at: datetime, note: str = "", from_status=None):
    """A row of the work's execution history, as `update_execution` writes it."""
    row = ProposalHistory(
        proposal_id=proposal.id,
        track=HistoryTrack.EXECUTION.value,
        from_status=from_status,
        to_status=to_status,
        note=note,
        at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row


def world() -> SimpleNamespace:
    north = factories.region(slug="norte", name="Norte")
    south = factories.region(slug="barreiro", name="Barreiro")
    school = factories.school(south, slug="em-barreiro", name="Escola Municipal do Barreiro")
    digital = factories.cycle(
        slug="op-2024", title="OP Digital 2024", edition=2024, state="monitoring"
    )
    opca = factories.cycle(
        slug="opca-2025", title="OPCA 2025", edition=2025, kind="opca", state="tallied"
    )

    def work(cycle, code, status, **extra):
        values = {"status": "selected", "execution_status": status}
        return factories.proposal(cycle, code=code, **(values | extra))

    late = work(
        digital,
        "OPD2024-0001",
        "in_works",
        title="Praça do Norte",
        region_id=north.id,
        estimated_cost_cents=200_000_00,
        committed_cents=150_000_00,
        spent_cents=50_000_00,
        department="Secretaria de Obras",
    )
    milestone(late, "Projeto", -90, -80, weight=1)
    milestone(late, "Fundação", -10, None, weight=3)  # past its date, not done: late
    done = work(digital, "OPD2024-0002", "done", title="Creche do Norte", region_id=north.id)
    milestone(done, "Entrega", -20, None)  # a done work is never late
    cancelled = work(
        digital, "OPD2024-0003", "cancelled", title="Quadra do Barreiro", region_id=south.id
    )
    city = work(digital, "OPD2024-0004", "tendering", title="Ciclovias da cidade")
    milestone(city, "Licitação", 30, None)  # in the future: on schedule
    school_work = work(
        opca,
        "OPCA2025-0001",
        None,  # no execution news yet: counted as not started
        title="Biblioteca da escola",
        school_id=school.id,
        reviewed_cost_cents=80_000_00,
    )
    factories.proposal(digital, code="OPD2024-0009", status="not_selected", region_id=north.id)
    # Never public: a draft cycle's work, and one marked before the result is known.
    draft = factories.cycle(slug="rascunho", title="Rascunho", edition=2024, state="draft")
    hidden_draft = work(draft, "RASC-0001", "in_works", region_id=north.id)
    closed = factories.cycle(slug="op-2026", title="OP Digital 2026", edition=2026, state="closed")
    hidden_closed = work(closed, "OPD2026-0001", "not_started", region_id=north.id)
    for hidden in (hidden_draft, hidden_closed):
        milestone(hidden, "Secreta", -5, -1)
        execution(hidden, "in_works", RECORDED, "Não publicar")
    return SimpleNamespace(
        north=north,
        south=south,
        school=school,
        digital=digital,
        opca=opca,
        late=late,
        done=done,
        cancelled=cancelled,
        city=city,
        school_work=school_work,
        listed=[late.code, done.code, cancelled.code, city.code, school_work.code],
        hidden=[hidden_draft.code, hidden_closed.code, "OPD2024-0009"],
    )
