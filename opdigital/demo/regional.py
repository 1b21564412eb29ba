"""Demo OP Regional and OPCA cycles: in-person calendars over the coming months.

OP Regional: the first round of assemblies has just happened in every region (its demands are
entered), the second round, the caravans, the Regional Priorities Forums and the Comforça
elections are ahead. OPCA: the schools' first assemblies raised their demands; the second
assemblies (choosing the delegates) and the delegates' meeting are ahead.
"""

from __future__ import annotations

from datetime import date, timedelta

from opdigital.cycles import lifecycle, schedule_items
from opdigital.cycles import services as cycles
from opdigital.cycles.models import EventKind
from opdigital.cycles.states import CycleState
from opdigital.demo import common
from opdigital.demo.common import REAIS, at, saturday_on_or_after, weekend_days
from opdigital.demo.regional_data import REGIONAL_DEMANDS, SCHOOL_DEMANDS
from opdigital.demo.regions import REGIONS, SCHOOLS
from opdigital.proposals import services as proposals
from opdigital.proposals.models import ProposalOrigin

REGIONAL_SLUG = "op-regional-2027-2028"
OPCA_SLUG = "opca-2026"
# The cycle started ten days ago: the first round (one region a day) is just over.
REGIONAL_STARTED_DAYS_AGO = 10
OPCA_STARTED_DAYS_AGO = 21


def _event(cycle, kind: EventKind, title: str, starts, ends, place: str, actor, **where) -> None:
    schedule_items.add_item(
        cycle,
        schedule_items.EventData(
            kind=kind.value, title=title, starts_at=starts, ends_at=ends, place=place, **where
        ),
        actor,
    )


def _regional_calendar(cycle, start: date, regions: dict, actor) -> int:
    """Five meetings per region, spread over the template's phases; returns how many."""
    # Caravans and forums happen at weekends inside their phases (template days 75-96, 96-110).
    caravan_days = weekend_days(start + timedelta(days=75), start + timedelta(days=96))
    forum_days = weekend_days(start + timedelta(days=96), start + timedelta(days=110))
    count = 0
    for i, demo in enumerate(REGIONS):
        where = {"region_id": regions[demo.slug].id}
        name = demo.name
        round1 = start + timedelta(days=1 + i)
        round2 = start + timedelta(days=21 + 2 * i)
        caravan = caravan_days[i * len(caravan_days) // len(REGIONS)]
        forum = forum_days[i * len(forum_days) // len(REGIONS)]
        election = start + timedelta(days=110 + i // 2)
        meetings = [
            (
                EventKind.ASSEMBLY,
                f"1ª rodada — apresentação dos recursos e das regras, Regional {name}",
                at(round1, 19),
                at(round1, 21, 30),
                demo.cultural_centre,
            ),
            (
                EventKind.ASSEMBLY,
                f"2ª rodada — escolha das demandas e eleição de delegados, Regional {name}",
                at(round2, 19),
                at(round2, 22),
                demo.school_venue,
            ),
            (
                EventKind.CARAVAN,
                f"Caravana de prioridades — Regional {name}",
                at(caravan, 8),
                at(caravan, 13),
                f"Saída: {demo.cultural_centre}",
            ),
            (
                EventKind.REGIONAL_FORUM,
                f"Fórum Regional de Prioridades Orçamentárias — {name}",
                at(forum, 8, 30),
                at(forum, 13),
                demo.headquarters,
            ),
            (
                EventKind.COMFORCA_ELECTION,
                f"Eleição da Comforça — Regional {name}",
                at(election, 19),
                at(election, 21),
                demo.headquarters,
            ),
        ]
        for kind, title, starts, ends, place in meetings:
            _event(cycle, kind, title, starts, ends, place, actor, **where)
            count += 1
    return count


def build_regional(actor, today: date) -> str:
    """OP Regional 2027/2028 open for proposals, with its meetings in every region."""
    regions = common.regions_by_slug()
    start = today - timedelta(days=REGIONAL_STARTED_DAYS_AGO)
    cycle = cycles.create_cycle(
        cycles.CycleData(
            slug=REGIONAL_SLUG,
            kind="op-regional",
            title="OP Regional 2027/2028",
            edition=2027,
            total_budget_cents=120_000_000 * REAIS,
            description=(
                "Orçamento Participativo presencial: rodadas de assembleias em cada regional, "
                "caravanas de delegados às obras propostas e Fórum Regional de Prioridades "
                "Orçamentárias. A Comforça de cada regional acompanha a execução."
            ),
            min_voter_age=16,
        ),
        start=start,
        actor=actor,
    )
    cycles.apply_budget_formula(cycle, 50, actor)
    events = _regional_calendar(cycle, start, regions, actor)
    cycle = lifecycle.advance(cycle, CycleState.OPEN_FOR_PROPOSALS, actor).cycle
    for index, demand in enumerate(REGIONAL_DEMANDS):
        proposal = proposals.enter_proposal(
            cycle,
            proposals.ProposalData(
                title=demand.title,
                description=demand.description,
                estimated_cost_cents=demand.cost_reais * REAIS,
                region_id=regions[demand.region].id,
                place=demand.place,
                author_name=f"1ª rodada de assembleias — Regional {regions[demand.region].name}",
            ),
            ProposalOrigin.ASSEMBLY.value,
            actor,
        )
        if index % 3 == 0:  # the technical review has started on some of them
            proposals.start_review(proposal, actor)
    return f"{len(REGIONAL_DEMANDS)} demands from assemblies, {events} meetings"


def build_opca(actor, today: date) -> str:
    """OPCA 2026: schools' assemblies, demands per school, the delegates' meeting."""
    regions = common.regions_by_slug()
    schools = common.schools_by_slug()
    start = today - timedelta(days=OPCA_STARTED_DAYS_AGO)
    cycle = cycles.create_cycle(
        cycles.CycleData(
            slug=OPCA_SLUG,
            kind="opca",
            title="OPCA 2026 — Orçamento Participativo da Criança e do Adolescente",
            edition=2026,
            total_budget_cents=300_000 * REAIS * len(SCHOOLS),
            description=(
                "Estudantes das escolas municipais levantam as demandas da sua escola, elegem "
                "um menino e uma menina como delegados e votam online. A Comforça Escolar "
                "acompanha as obras."
            ),
            min_voter_age=6,
            max_voter_age=15,
        ),
        start=start,
        actor=actor,
    )
    # Each school's region receives R$ 300 mil per taking-part school.
    amounts: dict[int, int] = {}
    for demo in SCHOOLS:
        region_id = regions[demo.region_slug].id
        amounts[region_id] = amounts.get(region_id, 0) + 300_000 * REAIS
    cycles.set_region_budgets(cycle, amounts, actor)
    events = 0
    for i, demo in enumerate(SCHOOLS):
        school = schools[demo.slug]
        where = {"region_id": school.region_id, "school_id": school.id}
        first = start + timedelta(days=1 + 2 * i)
        second = today + timedelta(days=2 + i)
        place = f"{demo.name}, {demo.address}"
        _event(
            cycle,
            EventKind.SCHOOL_ASSEMBLY,
            f"Assembleia escolar — levantamento de demandas, {demo.name}",
            at(first, 9),
            at(first, 11),
            place,
            actor,
            **where,
        )
        _event(
            cycle,
            EventKind.SCHOOL_ASSEMBLY,
            f"Assembleia escolar — eleição dos delegados, {demo.name}",
            at(second, 14),
            at(second, 16),
            place,
            actor,
            **where,
        )
        events += 2
    meeting = saturday_on_or_after(start + timedelta(days=41))
    _event(
        cycle,
        EventKind.DELEGATES_MEETING,
        "Encontro municipal dos delegados do OPCA — defesa das demandas",
        at(meeting, 9),
        at(meeting, 12),
        "Centro de Referência da Juventude, Praça da Estação, Centro",
        actor,
    )
    events += 1
    cycle = lifecycle.advance(cycle, CycleState.OPEN_FOR_PROPOSALS, actor).cycle
    count = 0
    for demo in SCHOOLS:
        school = schools[demo.slug]
        for title, cost, description in SCHOOL_DEMANDS[demo.slug]:
            proposals.enter_proposal(
                cycle,
                proposals.ProposalData(
                    title=title,
                    description=description,
                    estimated_cost_cents=cost * REAIS,
                    region_id=school.region_id,
                    school_id=school.id,
                    place=demo.name,
                    author_name=f"Assembleia escolar — {demo.name}",
                ),
                ProposalOrigin.ASSEMBLY.value,
                actor,
            )
            count += 1
    return f"{len(SCHOOLS)} schools, {count} demands, {events} meetings"
