"""How the ballot is laid out and explained: groups of inputs, the rule in plain words (from
`voting.wording`, shared with the public "vote by phone" page), and each ballot problem as a
sentence (the pure rules give codes and numbers only).

`ballot_page_data` is the one call the ballot page makes: it reads the frozen ballot and asks
the pure rules (`counting/ballot_rules`) what is left and what is wrong, so the views do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from opdigital.counting import ballot_rules as rules
from opdigital.counting.ballot_rules import (
    BallotProject,
    BallotRule,
    GroupRemaining,
    Problem,
    Remaining,
    RuleKind,
)
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.formatting import money
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting.forms import CHOICE, REGION_CHOICE_PREFIX
from opdigital.voting.services import frozen_ballot, voter_home
from opdigital.voting.wording import rule_sentences


@dataclass
class BallotItem:
    proposal: Proposal
    project: BallotProject
    checked: bool


@dataclass
class BallotGroup:
    """One set of inputs: a region's (per-region rules) or the whole ballot's."""

    region: Region | None
    input_type: str  # "radio" or "checkbox"
    name: str
    offers_no_choice: bool
    remaining: GroupRemaining | None
    items: list[BallotItem] = field(default_factory=list)

    @property
    def nothing_checked(self) -> bool:
        return not any(item.checked for item in self.items)


def ballot_page_data(
    cycle: Cycle,
    voter: EligibleVoter,
    choices: Sequence[object],
    *,
    check: bool = False,
    problems: Sequence[Problem] = (),
) -> dict:
    """What `voting/ballot.html` shows for `choices` (as posted, or as saved): the rule in
    words, the groups of inputs in this voter's order, what is left to choose, and the problems
    in words: `problems` as given, or, with `check` ("Check my choices"), all that the rules
    find in `choices`. Under an own-region rule only the voter's region (or school) is shown."""
    ballot = frozen_ballot(cycle)
    rule, every_project = ballot.rule, ballot.projects
    home = voter_home(rule, voter)
    projects = rules.at_home(rule, every_project, home)
    if check:
        problems = rules.validate_ballot(rule, every_project, choices, home=home)
    left = rules.remaining(rule, projects, choices)
    chosen = {i for i in map(rules.as_id, choices) if i is not None}
    return {
        "rule": rule,
        "rule_sentences": rule_sentences(rule),
        "groups": build_groups(cycle, rule, projects, voter.voter_key, chosen, left),
        "left": left,
        "overall_max": rules.overall_limits(rule)[1],
        "region_max": rules.region_limits(rule)[1],
        "problems": explain_all(problems, every_project),
    }


def by_region(rule: BallotRule) -> bool:
    """True when the ballot is shown (and judged) region by region."""
    return rule.kind == RuleKind.ONE_PER_REGION or rule.by_region


def proposals_by_id(ids: Iterable[int]) -> dict[int, Proposal]:
    """The Proposal rows for these ids, with their regions loaded."""
    ids = list(ids)
    if not ids:
        return {}
    query = sa.select(Proposal).where(Proposal.id.in_(ids)).options(selectinload(Proposal.region))
    return {p.id: p for p in db.session.scalars(query)}


def ballot_order(cycle: Cycle, projects: Sequence[BallotProject], voter_key: str) -> list:
    """Per voter (stable for one voter) when the cycle shuffles, else the fixed order."""
    if cycle.shuffle_ballot:
        return rules.shuffled(projects, seed=voter_key.encode("ascii"))
    return rules.ordered(projects)


def build_groups(
    cycle: Cycle,
    rule: BallotRule,
    projects: Sequence[BallotProject],
    voter_key: str,
    chosen: Iterable[int],
    left: Remaining,
) -> list[BallotGroup]:
    """The ballot's input groups, in the voter's order; `chosen` ids come checked."""
    chosen_ids = set(chosen)
    proposals = proposals_by_id(p.id for p in projects)
    order = [p for p in ballot_order(cycle, projects, voter_key) if p.id in proposals]
    if not by_region(rule):
        input_type = "radio" if rule.kind == RuleKind.ONE_CITY_WIDE else "checkbox"
        group = BallotGroup(None, input_type, CHOICE, False, None)
        group.items = [BallotItem(proposals[p.id], p, p.id in chosen_ids) for p in order]
        return [group]
    one_each = rule.kind == RuleKind.ONE_PER_REGION
    groups: dict[int | None, BallotGroup] = {}
    for project in order:
        group = groups.get(project.region_id)
        if group is None:
            proposal = proposals[project.id]
            name = f"{REGION_CHOICE_PREFIX}{project.region_id or 0}" if one_each else CHOICE
            group = groups[project.region_id] = BallotGroup(
                region=proposal.region,
                input_type="radio" if one_each else "checkbox",
                name=name,
                offers_no_choice=one_each,
                remaining=left.region(project.region_id),
            )
        group.items.append(BallotItem(proposals[project.id], project, project.id in chosen_ids))
    return sorted(
        groups.values(), key=lambda g: (g.region is None, g.region.name if g.region else "")
    )


# --- problems as sentences -----------------------------------------------------------------


def explain(problem: Problem, regions: dict[int, str], titles: dict[int, str]) -> str:
    """One ballot problem in words, with its numbers (money in reais, names not ids)."""
    d = problem.detail
    region = regions.get(d.get("region_id"), _("the whole city"))
    code = problem.code
    if code == rules.NOT_AN_ID:
        return _("One of the choices sent (%(value)s) is not a proposal.", value=d.get("value"))
    if code == rules.UNKNOWN_PROJECT:
        return _("Proposal number %(id)s is not on this ballot.", id=d.get("id"))
    if code == rules.NOT_YOUR_REGION:
        title = titles.get(d.get("id"), str(d.get("id")))
        return _(
            "“%(title)s” is not a work of your region: choose only works of your own.", title=title
        )
    if code == rules.SEVERAL_REGIONS:
        return _("Your choices are works of different regions: choose only works of your own.")
    if code == rules.DUPLICATE:
        title = titles.get(d.get("id"), str(d.get("id")))
        return _("“%(title)s” was chosen more than once.", title=title)
    if code == rules.EMPTY:
        return _("You have not chosen any proposal.")
    if code == rules.TOO_FEW:
        return _("Choose at least %(min)d; you chose %(count)d.", min=d["min"], count=d["count"])
    if code == rules.TOO_MANY:
        return _("Choose at most %(max)d; you chose %(count)d.", max=d["max"], count=d["count"])
    if code in (rules.OVER_BUDGET, rules.OVER_BUDGET_IN_REGION):
        text = _(
            "Your choices cost %(total)s, which is %(excess)s over the budget of %(budget)s.",
            total=money(d["total_cents"]),
            excess=money(d["excess_cents"]),
            budget=money(d["budget_cents"]),
        )
        return text if code == rules.OVER_BUDGET else f"{region}: {text}"
    if code in (rules.UNDER_MIN_SHARE, rules.UNDER_MIN_SHARE_IN_REGION):
        text = _(
            "Your choices must use at least %(percent)d%% of the budget (%(min)s): "
            "choose %(missing)s more.",
            percent=d["percent"],
            min=money(d["min_cents"]),
            missing=money(d["missing_cents"]),
        )
        return text if code == rules.UNDER_MIN_SHARE else f"{region}: {text}"
    if code == rules.TWO_IN_REGION:
        return _(
            "In %(region)s you chose %(count)d proposals: choose only one.",
            region=region,
            count=d["count"],
        )
    if code == rules.TOO_FEW_IN_REGION:
        return _(
            "In %(region)s choose at least %(min)d; you chose %(count)d.",
            region=region,
            min=d["min"],
            count=d["count"],
        )
    if code == rules.TOO_MANY_IN_REGION:
        return _(
            "In %(region)s choose at most %(max)d; you chose %(count)d.",
            region=region,
            max=d["max"],
            count=d["count"],
        )
    return _("This ballot is not valid: please correct it and try again.")


def explain_all(problems: Sequence[Problem], projects: Sequence[BallotProject]) -> list[str]:
    """Every problem in words, each said once."""
    regions = {r.id: r.name for r in db.session.scalars(sa.select(Region))}
    titles = {p.id: p.title for p in proposals_by_id(pr.id for pr in projects).values()}
    sentences: list[str] = []
    for problem in problems:
        sentence = explain(problem, regions, titles)
        if sentence not in sentences:
            sentences.append(sentence)
    return sentences
