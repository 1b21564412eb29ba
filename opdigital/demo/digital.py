"""Demo OP Digital cycles: 2026 open for voting now, 2024 tallied, published and monitored.

Both go through the real services (create from the template, adapt phases, budgets, proposals,
review, state transitions, results, execution), so the audit log and the proposals' public
histories are the ones a coordinator would have produced.
"""

from __future__ import annotations

from datetime import date, timedelta

from opdigital.cycles import lifecycle
from opdigital.cycles import services as cycles
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.demo import common
from opdigital.demo.common import REAIS, at
from opdigital.demo.cycles_data import DIGITAL_2026, DemoWork
from opdigital.demo.past_data import DIGITAL_2024, REJECTED_2024, REJECTION_REASON_2024
from opdigital.demo.past_votes import demo_ballots, record_past_ballots
from opdigital.phone.switches import PhoneSwitches, set_phone_switches
from opdigital.proposals import services as proposals
from opdigital.proposals.models import Proposal, ProposalOrigin

DIGITAL_SLUG = "op-digital-2026"
PAST_DIGITAL_SLUG = "op-digital-2024"
AUTHOR = "Prefeitura de Belo Horizonte"
# 2006 and 2011 style: each voter picks at most one work in each region; the most voted work of
# each region is built (docs/domain.md, "What the city did online").
BALLOT_RULE = "one-per-region"
COUNTING_RULE = "plurality-per-region"
RULE_PARAMS = {"max_choices_per_region": 1}
VOTING_DAYS = 30


def _advance(cycle: Cycle, *targets: CycleState, actor) -> Cycle:
    for target in targets:
        cycle = lifecycle.advance(cycle, target, actor).cycle
    return cycle


def _enter(cycle: Cycle, work: DemoWork, region_id: int, actor) -> Proposal:
    return proposals.enter_proposal(
        cycle,
        proposals.ProposalData(
            title=work.title,
            description=work.description,
            estimated_cost_cents=work.cost_reais * REAIS,
            region_id=region_id,
            place=work.place,
            author_name=AUTHOR,
        ),
        ProposalOrigin.STAFF.value,
        actor,
    )


def build_digital_2026(actor, today: date) -> str:
    """The 2011-style cycle: 36 works on the ballot, voting from today for 30 days."""
    regions = common.regions_by_slug()
    cycle = cycles.create_cycle(
        cycles.CycleData(
            slug=DIGITAL_SLUG,
            kind="op-digital",
            title="OP Digital 2026",
            edition=2026,
            total_budget_cents=50_000_000 * REAIS,
            description=(
                "Votação online de obras para as nove regionais de Belo Horizonte: 36 "
                "empreendimentos, quatro por regional. Cada eleitor escolhe no máximo uma obra "
                "em cada regional; a mais votada de cada regional será executada."
            ),
            min_voter_age=16,
        ),
        # The template puts the vote 60 days after the start: start so that it opens today.
        start=today - timedelta(days=60),
        actor=actor,
    )
    voting_end = today + timedelta(days=VOTING_DAYS)
    common.move_phase(cycle, "voting", at(today), at(voting_end), actor)
    common.move_phase(cycle, "tally", at(voting_end), at(voting_end + timedelta(days=3)), actor)
    results_end = voting_end + timedelta(days=10)
    common.move_phase(cycle, "results", at(voting_end + timedelta(days=3)), at(results_end), actor)
    common.move_phase(
        cycle, "monitoring", at(results_end), at(results_end + timedelta(days=730)), actor
    )
    common.set_rules(cycle, BALLOT_RULE, COUNTING_RULE, RULE_PARAMS, actor)
    cycles.apply_budget_formula(cycle, 50, actor)
    cycle = _advance(cycle, CycleState.OPEN_FOR_PROPOSALS, actor=actor)
    entered = [_enter(cycle, w, regions[w.region].id, actor) for w in DIGITAL_2026]
    cycle = _advance(cycle, CycleState.UNDER_REVIEW, actor=actor)
    for index, proposal in enumerate(entered):
        common.accept(proposal, common.reviewed_cost(proposal.estimated_cost_cents, index), actor)
    # Freezing puts every accepted work on the ballot.
    cycle = _advance(cycle, CycleState.BALLOT_FROZEN, CycleState.VOTING, actor=actor)
    # As in 2008: the toll-free line and text messages too (try `opdigital phone call`).
    set_phone_switches(cycle, PhoneSwitches(voice=True, text=True), actor)
    return (
        f"{len(entered)} works on the ballot, voting open now until {voting_end:%Y-%m-%d} 00:00"
        " (America/Sao_Paulo), also by phone"
    )


def build_digital_2024(actor, today: date) -> str:
    """A finished edition: results recorded and the chosen works followed through execution."""
    regions = common.regions_by_slug()
    cycle = cycles.create_cycle(
        cycles.CycleData(
            slug=PAST_DIGITAL_SLUG,
            kind="op-digital",
            title="OP Digital 2024",
            edition=2024,
            total_budget_cents=20_000_000 * REAIS,
            description=(
                "Edição encerrada: 18 obras, duas por regional, uma escolhida em cada regional. "
                "Acompanhe aqui a execução das obras escolhidas."
            ),
            min_voter_age=16,
        ),
        start=date(2024, 8, 5),
        actor=actor,
    )
    # Follow-up lasts until the works are delivered: keep it open for another year from today.
    monitoring = cycle.phase_of_kind("monitoring")
    monitoring_end = max(monitoring.ends_at, at(today + timedelta(days=365)))
    common.move_phase(cycle, "monitoring", monitoring.starts_at, monitoring_end, actor)
    common.set_rules(cycle, BALLOT_RULE, COUNTING_RULE, RULE_PARAMS, actor)
    cycles.apply_budget_formula(cycle, 50, actor)
    cycle = _advance(cycle, CycleState.OPEN_FOR_PROPOSALS, actor=actor)
    entered = [
        (past, _enter(cycle, past.work, regions[past.work.region].id, actor))
        for past in DIGITAL_2024
    ]
    rejected = _enter(cycle, REJECTED_2024, regions[REJECTED_2024.region].id, actor)
    cycle = _advance(cycle, CycleState.UNDER_REVIEW, actor=actor)
    for index, (_past, proposal) in enumerate(entered):
        common.accept(proposal, common.reviewed_cost(proposal.estimated_cost_cents, index), actor)
    proposals.start_review(rejected, actor)
    proposals.review_proposal(
        rejected,
        proposals.ReviewDecision(
            accept=False,
            technical_opinion="Inviável no OP Digital: obra viária estrutural de grande porte.",
            rejection_reason=REJECTION_REASON_2024,
        ),
        actor,
    )
    cycle = _advance(cycle, CycleState.BALLOT_FROZEN, CycleState.VOTING, actor=actor)
    # Past ballots, then the real close, seal, count, signed package and publication: the
    # works the city chose win their regions.
    works = [(p.id, p.region_id, past.selected) for past, p in entered]
    voted_on = cycle.phase_of_kind("voting").starts_at.date()
    record_past_ballots(cycle.id, demo_ballots(works), voted_on)
    cycle = _advance(
        cycle,
        CycleState.CLOSED,
        CycleState.TALLIED,
        CycleState.PUBLISHED,
        CycleState.MONITORING,
        actor=actor,
    )
    for past, proposal in entered:
        for status, note in past.execution:
            proposals.update_execution(proposal, status, note, actor)
    selected = sum(1 for past in DIGITAL_2024 if past.selected)
    return f"{len(entered) + 1} proposals, {selected} works selected and followed"
