"""Helpers shared by the demo cycle builders: city-time dates and small service sequences."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from opdigital.audit import services as audit
from opdigital.clock import CITY_TZ
from opdigital.cycles import schedule_items
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.proposals import services as proposals
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region, School

REAIS = 100  # centavos per real


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """An aware datetime on `day` at hh:mm in Belo Horizonte."""
    return datetime.combine(day, time(hour, minute), tzinfo=CITY_TZ)


def saturday_on_or_after(day: date) -> date:
    """The first Saturday on or after `day` (assemblies and caravans happen on weekends)."""
    return day + timedelta(days=(5 - day.weekday()) % 7)


def weekend_days(first: date, end: date) -> list[date]:
    """Saturdays and Sundays from `first` up to, not including, `end`."""
    days = (first + timedelta(days=n) for n in range((end - first).days))
    return [day for day in days if day.weekday() >= 5]


def regions_by_slug() -> dict[str, Region]:
    return {r.slug: r for r in db.session.scalars(sa.select(Region))}


def schools_by_slug() -> dict[str, School]:
    return {s.slug: s for s in db.session.scalars(sa.select(School))}


def cycle_exists(slug: str) -> bool:
    return db.session.scalar(sa.select(Cycle.id).where(Cycle.slug == slug)) is not None


def move_phase(cycle: Cycle, kind: str, starts_at: datetime, ends_at: datetime, actor) -> None:
    """Adapt one phase of the template, as a coordinator would on the calendar screen."""
    phase = cycle.phase_of_kind(kind)
    schedule_items.update_item(
        phase,
        schedule_items.PhaseData(
            kind=phase.kind,
            name=phase.name,
            starts_at=starts_at,
            ends_at=ends_at,
            description=phase.description,
            position=phase.position,
        ),
        actor,
    )


def set_rules(cycle: Cycle, ballot_rule: str, counting_rule: str, params: dict, actor) -> None:
    """Record the ballot and counting rules.

    No service sets them yet (the voting issue brings the screen and its validation), so the
    demo writes the columns itself, with the audit entry a service would write.
    """
    before = {"ballot_rule": cycle.ballot_rule, "counting_rule": cycle.counting_rule}
    cycle.ballot_rule, cycle.counting_rule, cycle.ballot_rule_params = (
        ballot_rule,
        counting_rule,
        params,
    )
    audit.record(
        actor,
        "cycle.rules",
        cycle,
        before=before,
        after={"ballot_rule": ballot_rule, "counting_rule": counting_rule, "params": params},
    )
    db.session.commit()


_OPINIONS = [
    (
        ("Urbanização", "Contenção", "Escadaria"),
        "Viável. Projeto elaborado pela Urbel; áreas de risco e reassentamentos levantados.",
    ),
    (
        ("Centro de Saúde",),
        "Viável. Terreno público disponível; projeto padrão da Secretaria Municipal de Saúde.",
    ),
    (
        ("Praça", "Parque", "Academia", "Quadras"),
        "Viável. Projeto paisagístico compatível com as normas da Fundação de Parques.",
    ),
    (
        ("Pavimentação", "Drenagem"),
        "Viável. Vias com projeto de pavimentação e drenagem; custo pela tabela da SUDECAP.",
    ),
]


def opinion_for(title: str) -> str:
    """A plausible technical opinion for a work, chosen by the kind of work in its title."""
    for words, text in _OPINIONS:
        if any(word in title for word in words):
            return text
    return "Viável. Obra compatível com o orçamento da regional e com o plano diretor."


def accept(proposal: Proposal, reviewed_cost_cents: int | None, actor) -> None:
    """Technical review through the real services: under review, then accepted."""
    proposals.start_review(proposal, actor)
    proposals.review_proposal(
        proposal,
        proposals.ReviewDecision(
            accept=True,
            technical_opinion=opinion_for(proposal.title),
            reviewed_cost_cents=reviewed_cost_cents,
        ),
        actor,
    )


def reviewed_cost(cost_cents: int, index: int) -> int | None:
    """Every other work gets a revised cost (3 % more, rounded to R$ 10 mil), as reviews do."""
    if index % 2:
        return None
    return round(cost_cents * 103 / 100 / (10_000 * REAIS)) * 10_000 * REAIS
