"""Printing blank ballot sheets for a voting point: serial numbers allocated per cycle.

A print run takes the next free serials of the cycle under a lock held for its transaction, so
two runs printed at the same moment anywhere in the city never share a serial. The sheets are
an HTML page the browser prints (one sheet per page); printing the page again prints the same
serials, never new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.counting import ballot_rules as rules
from opdigital.cycles.models import Cycle
from opdigital.errors import NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.paper.models import PaperSheetRun
from opdigital.paper.services import (
    PRINT_LOCK,
    PRINTING_STATES,
    advisory_lock,
    ensure_may_act,
    ensure_state,
)
from opdigital.regions.models import Region, School
from opdigital.voting.services import frozen_ballot

MAX_SHEETS_PER_RUN = 500


@dataclass(frozen=True)
class SheetChoice:
    """What a run lists: one region's works, one school's (OPCA), or the whole ballot."""

    region_id: int | None = None
    school_id: int | None = None


def sheet_scope(cycle: Cycle) -> str:
    """How sheets are split: "school" (OPCA own school), "region" (own region: required),
    "region-optional" (a per-region rule: one region's works, or all of them), or "all"."""
    rule = frozen_ballot(cycle).rule
    if rule.own_group == rules.OwnGroup.SCHOOL:
        return "school"
    if rule.own_group == rules.OwnGroup.REGION:
        return "region"
    if rule.kind == rules.RuleKind.ONE_PER_REGION or rule.by_region:
        return "region-optional"
    return "all"


def _checked_choice(cycle: Cycle, choice: SheetChoice) -> SheetChoice:
    """The region (and school) a run lists, refused when the rule needs another."""
    scope = sheet_scope(cycle)
    projects = frozen_ballot(cycle).projects
    if scope == "school":
        school = db.session.get(School, choice.school_id) if choice.school_id else None
        if school is None or not any(p.school_id == school.id for p in projects):
            raise ValidationFailed(
                _l("Choose the school whose works the sheets list."), code="school_needed"
            )
        return SheetChoice(region_id=school.region_id, school_id=school.id)
    if scope == "all":
        return SheetChoice()
    if choice.region_id is None:
        if scope == "region":
            raise ValidationFailed(
                _l("Choose the region whose works the sheets list."), code="region_needed"
            )
        return SheetChoice()
    if db.session.get(Region, choice.region_id) is None or not any(
        p.region_id == choice.region_id for p in projects
    ):
        raise ValidationFailed(
            _l("This region has no work on the ballot."), code="region_not_on_ballot"
        )
    return SheetChoice(region_id=choice.region_id)


def print_sheets(
    cycle: Cycle, voting_point_id: int, count: int, choice: SheetChoice, actor: Any
) -> PaperSheetRun:
    """Allocate `count` serials for sheets of the point (audited as "paper.print")."""
    ensure_may_act(actor, cycle.id, voting_point_id)
    ensure_state(
        cycle,
        PRINTING_STATES,
        _l("Sheets can be printed once the ballot is frozen, until the vote closes."),
    )
    if not 1 <= count <= MAX_SHEETS_PER_RUN:
        raise ValidationFailed(
            _l("Print from 1 to %(max)d sheets at a time.", max=MAX_SHEETS_PER_RUN),
            code="sheet_count",
        )
    choice = _checked_choice(cycle, choice)
    try:
        advisory_lock(PRINT_LOCK, cycle.id)
        last = db.session.scalar(
            sa.select(sa.func.max(PaperSheetRun.first_serial + PaperSheetRun.count - 1)).where(
                PaperSheetRun.cycle_id == cycle.id
            )
        )
        run = PaperSheetRun(
            cycle_id=cycle.id,
            voting_point_id=voting_point_id,
            region_id=choice.region_id,
            school_id=choice.school_id,
            first_serial=(last or 0) + 1,
            count=count,
            printed_by_id=getattr(actor, "id", None),
        )
        db.session.add(run)
        db.session.flush()
        audit.record(
            actor,
            "paper.print",
            run,
            after={
                "cycle_id": cycle.id,
                "voting_point_id": voting_point_id,
                "region_id": choice.region_id,
                "school_id": choice.school_id,
                "first_serial": run.first_serial,
                "last_serial": run.first_serial + count - 1,
                "count": count,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return run


def run_of(cycle: Cycle, run_id: int) -> PaperSheetRun:
    run = db.session.get(PaperSheetRun, run_id)
    if run is None or run.cycle_id != cycle.id:
        raise NotFound(_l("No such print run in this cycle."))
    return run


def runs_of_point(cycle_id: int, voting_point_id: int) -> list[PaperSheetRun]:
    return list(
        db.session.scalars(
            sa.select(PaperSheetRun)
            .where(
                PaperSheetRun.cycle_id == cycle_id,
                PaperSheetRun.voting_point_id == voting_point_id,
            )
            .order_by(PaperSheetRun.first_serial)
        )
    )
