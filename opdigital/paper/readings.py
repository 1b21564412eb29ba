"""A paper ballot as the app reads it: the works numbered as printed, and a sheet's reading.

Every work of the frozen ballot has one number on every sheet of the cycle (its place in the
ballot's fixed order, from 1), so a clerk finds the same number on the sheet and on the entry
form. A sheet is read as its works marked, as blank (nothing marked) or as spoiled (nulo):
marked by the voter so that no valid ballot can be read from it, or typed so. A marking the
ballot rule refuses (too many works, over the budget, works of two regions under an own-region
rule) is read as spoiled: the voter cannot be asked to correct a paper ballot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from opdigital.counting import ballot_rules as rules
from opdigital.counting.ballot_rules import BallotRule, RuleKind
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.formatting import money
from opdigital.proposals.models import Proposal
from opdigital.voting.services import FrozenBallot, frozen_ballot


@dataclass(frozen=True)
class SheetWork:
    """A work as a sheet and the entry form show it."""

    number: int
    proposal_id: int
    code: str
    title: str
    cost_cents: int
    region_id: int | None
    region_name: str
    school_id: int | None


@dataclass(frozen=True)
class Reading:
    """What a sheet says: the works marked (sorted proposal ids), or spoiled; neither: blank."""

    choices: tuple[int, ...] = ()
    spoiled: bool = False

    @property
    def blank(self) -> bool:
        return not self.spoiled and not self.choices

    def as_dict(self) -> dict:
        return {"choices": list(self.choices), "spoiled": self.spoiled}


SPOILED = Reading(spoiled=True)
BLANK = Reading()


def numbered_works(cycle: Cycle) -> list[SheetWork]:
    """Every work on the cycle's frozen ballot, numbered in the ballot's fixed order."""
    ballot = frozen_ballot(cycle)
    order = rules.ordered(ballot.projects)
    proposals = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.id.in_([p.id for p in order]))
            .options(selectinload(Proposal.region))
        )
    }
    works = []
    for number, project in enumerate(order, start=1):
        proposal = proposals[project.id]
        works.append(
            SheetWork(
                number=number,
                proposal_id=project.id,
                code=proposal.code,
                title=proposal.title,
                cost_cents=project.cost_cents,
                region_id=project.region_id,
                region_name=proposal.region.name if proposal.region else _("Whole city"),
                school_id=project.school_id,
            )
        )
    return works


def works_of(
    works: Sequence[SheetWork], region_id: int | None = None, school_id: int | None = None
) -> list[SheetWork]:
    """The works a sheet for this region (or school) lists; all of them for neither."""
    if school_id is not None:
        return [w for w in works if w.school_id == school_id]
    if region_id is not None:
        return [w for w in works if w.region_id == region_id]
    return list(works)


def read_marking(
    ballot: FrozenBallot, marked: Sequence[object], spoiled: bool, *, region_id: int | None = None
) -> tuple[Reading, bool]:
    """The reading of a sheet: (reading, True when the marking was refused by the rule and so
    read as spoiled). `region_id`: the region the sheet was printed for, which an own-region
    rule holds the marks to."""
    if spoiled:
        return SPOILED, False
    if not marked:
        return BLANK, False
    rule = ballot.rule
    home: object = rules.UNKNOWN_HOME
    if rule.own_group == rules.OwnGroup.REGION and region_id is not None:
        home = region_id
    problems = rules.validate_ballot(rule, ballot.projects, list(marked), home=home)
    if not problems and rule.own_group is not None:
        problems = rules.choices_home(rule, ballot.projects, list(marked))[1]
    if problems:
        return SPOILED, True
    return Reading(tuple(rules.normalised_choices(ballot.projects, list(marked)))), False


def describe(reading: Reading | None, numbers: dict[int, int]) -> str:
    """A reading in words for staff: the works' numbers, "blank", "spoiled" or "not entered"."""
    if reading is None:
        return _("Not in this entry")
    if reading.spoiled:
        return _("Spoiled")
    if reading.blank:
        return _("Blank")
    marked = ", ".join(str(numbers.get(i, i)) for i in reading.choices)
    return _("Works %(numbers)s", numbers=marked)


def instructions(rule: BallotRule) -> list[str]:
    """How to fill the sheet, in a few sentences (how many works, the budget)."""
    sentences = []
    if rule.own_group is not None:
        sentences.append(_("This sheet lists only the works of one region: mark only those."))
    if rule.kind == RuleKind.ONE_CITY_WIDE:
        sentences.append(_("Mark one work."))
    elif rule.kind == RuleKind.ONE_PER_REGION:
        sentences.append(_("Mark at most one work in each region."))
        if rule.max_choices is not None:
            sentences.append(
                ngettext(
                    "Mark works in up to %(num)d region.",
                    "Mark works in up to %(num)d regions.",
                    rule.max_choices,
                )
            )
    else:
        low, high = rules.region_limits(rule) if rule.by_region else rules.overall_limits(rule)
        if rule.by_region:
            sentences.append(_("The limits below hold in each region you mark works in."))
        if high is not None and low == high:
            sentences.append(ngettext("Mark %(num)d work.", "Mark %(num)d works.", high))
        elif high is not None:
            sentences.append(
                _("Mark from %(min)d to %(max)d works.", min=max(low, 1), max=high)
                if low > 1
                else ngettext("Mark up to %(num)d work.", "Mark up to %(num)d works.", high)
            )
        elif low > 1:
            sentences.append(
                ngettext("Mark at least %(num)d work.", "Mark at least %(num)d works.", low)
            )
    if rule.kind == RuleKind.KNAPSACK:
        if rule.by_region:
            sentences.append(_("The works you mark in a region must fit that region's budget."))
        else:
            sentences.append(
                _(
                    "The costs of the works you mark must add up to no more than %(budget)s.",
                    budget=money(rule.budget_cents or 0),
                )
            )
        if rule.min_budget_share_percent:
            sentences.append(
                _(
                    "Use at least %(percent)d%% of the budget.",
                    percent=rule.min_budget_share_percent,
                )
            )
    sentences.append(
        _(
            "Mark each work with an X in its box. A sheet marked otherwise than these rules say "
            "is counted as spoiled. Do not write your name."
        )
    )
    return sentences


def budget_of(rule: BallotRule, region_id: int | None) -> int | None:
    """The budget a sheet for this region states (None: no budget rule)."""
    if rule.kind != RuleKind.KNAPSACK:
        return None
    if rule.by_region and region_id is not None:
        return rule.group_budget(region_id)
    return rule.budget_cents or 0
