"""A proposal's life through the services: submit, review, ballot, result, execution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.errors import BallotLocked, IllegalTransition, PhaseClosed, ValidationFailed
from opdigital.extensions import db
from opdigital.proposals import services
from opdigital.proposals.models import Proposal
from tests.support import factories

START = datetime(2026, 10, 1, 3, tzinfo=UTC)
END = datetime(2026, 11, 1, 3, tzinfo=UTC)


def _open_cycle(**overrides):
    return factories.cycle(
        state="open_for_proposals", phases=[("proposals", START, END)], **overrides
    )


def _data(region_id=None, **overrides) -> services.ProposalData:
    values = {
        "title": "Praça da Liberdade acessível",
        "description": "Rampas, piso tátil e bancos novos em toda a praça.",
        "estimated_cost_cents": 500_000_00,
        "region_id": region_id,
        "author_name": "Maria",
        "contact": "maria@example.org",
    }
    return services.ProposalData(**(values | overrides))


def test_submission_window_edges(app_ctx, time_machine):
    cycle = _open_cycle()
    time_machine.move_to(START - timedelta(seconds=1), tick=False)
    with pytest.raises(PhaseClosed):
        services.submit_proposal(cycle, _data())
    time_machine.move_to(START, tick=False)
    first = services.submit_proposal(cycle, _data())
    time_machine.move_to(END - timedelta(seconds=1), tick=False)
    services.submit_proposal(cycle, _data())
    time_machine.move_to(END, tick=False)
    with pytest.raises(PhaseClosed):
        services.submit_proposal(cycle, _data())
    assert first.code == "OPD2026-0001"
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 2


def test_submission_needs_the_open_state(app_ctx, time_machine):
    time_machine.move_to(START + timedelta(days=1), tick=False)
    cycle = factories.cycle(state="under_review", phases=[("proposals", START, END)])
    with pytest.raises(PhaseClosed):
        services.submit_proposal(cycle, _data())


def test_submitted_proposal_has_history_and_audit(app_ctx, time_machine):
    time_machine.move_to(START + timedelta(days=1), tick=False)
    proposal = services.submit_proposal(_open_cycle(), _data())
    assert proposal.status == "submitted"
    assert proposal.origin == "citizen"
    assert [h.to_status for h in proposal.history] == ["submitted"]
    entry = db.session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.actor_email, entry.object_id) == (
        "proposal.create",
        "system",
        proposal.code,
    )


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"title": "abc"}, "invalid_title"),
        ({"description": "curta"}, "invalid_description"),
        ({"estimated_cost_cents": 0}, "invalid_cost"),
        ({"estimated_cost_cents": 10**14}, "invalid_cost"),
        ({"region_id": 999}, "unknown_region"),
    ],
)
def test_bad_proposal_data_is_refused(app_ctx, time_machine, overrides, code):
    time_machine.move_to(START + timedelta(days=1), tick=False)
    with pytest.raises(ValidationFailed) as excinfo:
        services.submit_proposal(_open_cycle(), _data(**overrides))
    assert excinfo.value.code == code
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


def test_regional_and_school_cycles_need_region_and_school(app_ctx):
    actor = factories.user()
    region = factories.region()
    other = factories.region()
    school = factories.school(region)
    regional = factories.cycle(kind="op-regional", state="open_for_proposals")
    with pytest.raises(ValidationFailed):
        services.enter_proposal(regional, _data(), "assembly", actor)
    opca = factories.cycle(kind="opca", state="open_for_proposals")
    with pytest.raises(ValidationFailed) as excinfo:
        services.enter_proposal(opca, _data(region_id=region.id), "assembly", actor)
    assert excinfo.value.code == "missing_school"
    with pytest.raises(ValidationFailed) as excinfo:
        services.enter_proposal(
            opca, _data(region_id=other.id, school_id=school.id), "assembly", actor
        )
    assert excinfo.value.code == "school_region_mismatch"
    ok = services.enter_proposal(
        opca, _data(region_id=region.id, school_id=school.id), "assembly", actor
    )
    assert ok.code == "OPCA2026-0001"
    assert ok.origin == "assembly"


def test_review_accept_and_reject(app_ctx):
    actor = factories.user()
    cycle = factories.cycle(state="under_review")
    accepted = factories.proposal(cycle)
    rejected = factories.proposal(cycle)
    services.start_review(accepted, actor)
    services.review_proposal(
        accepted, services.ReviewDecision(True, "Viável.", reviewed_cost_cents=600_000_00), actor
    )
    assert accepted.status == "accepted"
    assert accepted.cost_cents == 600_000_00
    with pytest.raises(ValidationFailed):
        services.review_proposal(
            rejected, services.ReviewDecision(False, "Área de preservação."), actor
        )
    services.review_proposal(
        rejected,
        services.ReviewDecision(
            False, "Área de preservação.", rejection_reason="Terreno do Estado."
        ),
        actor,
    )
    assert rejected.status == "rejected"
    assert rejected.history[-1].note == "Terreno do Estado."


def test_nothing_on_the_ballot_changes_after_the_freeze(app_ctx):
    actor = factories.user()
    cycle = factories.cycle(state="ballot_frozen")
    proposal = factories.proposal(cycle, status="on_ballot")
    with pytest.raises(BallotLocked):
        services.review_proposal(proposal, services.ReviewDecision(True, "ok"), actor)
    with pytest.raises(BallotLocked):
        services.enter_proposal(cycle, _data(), "staff", actor)
    with pytest.raises(BallotLocked):
        services.start_review(proposal, actor)


def test_result_and_execution(app_ctx):
    actor = factories.user()
    cycle = factories.cycle(state="voting")
    winner = factories.proposal(cycle, status="on_ballot")
    with pytest.raises(IllegalTransition):
        services.record_result(winner, True, actor)  # the vote is still open
    cycle.state = "closed"
    db.session.commit()
    services.record_result(winner, True, actor)
    assert (winner.status, winner.execution_status) == ("selected", "not_started")
    with pytest.raises(IllegalTransition):
        services.update_execution(winner, "in_works", "", actor)  # not tallied yet
    cycle.state = "monitoring"
    db.session.commit()
    services.update_execution(winner, "tendering", "Edital publicado.", actor)
    with pytest.raises(ValidationFailed):
        services.update_execution(winner, "cancelled", "  ", actor)
    with pytest.raises(ValidationFailed):
        services.update_execution(winner, "flying", "", actor)
    services.update_execution(winner, "cancelled", "Terreno indisponível.", actor)
    execution = [h for h in winner.history if h.track == "execution"]
    assert [(h.from_status, h.to_status) for h in execution] == [
        ("not_started", "tendering"),
        ("tendering", "cancelled"),
    ]
    assert winner.execution_note == "Terreno indisponível."


def test_codes_stay_unique_across_cycles_of_one_edition(app_ctx):
    actor = factories.user()
    first = factories.cycle(state="open_for_proposals", edition=2026)
    second = factories.cycle(state="open_for_proposals", edition=2026)
    codes = [
        services.enter_proposal(cycle, _data(), "staff", actor).code
        for cycle in (first, second, first)
    ]
    assert codes == ["OPD2026-0001", "OPD2026-0002", "OPD2026-0003"]
