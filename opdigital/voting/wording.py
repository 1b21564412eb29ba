"""A ballot rule in plain words: what the voter may choose, in a few short sentences.

Shared by the ballot page (voting/views/presentation.py) and the public "vote by phone" page
(public/phone_help.py), which lists the ballot for callers; kept outside any blueprint so both
can use it (the blueprints do not import each other).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from opdigital.counting import ballot_rules as rules
from opdigital.counting.ballot_rules import BallotRule, RuleKind
from opdigital.formatting import money


def _count_range(low: int, high: int | None) -> str:
    if high is None:
        return ngettext(
            "Choose at least %(num)d proposal.", "Choose at least %(num)d proposals.", low
        )
    if low == high:
        return ngettext("Choose %(num)d proposal.", "Choose %(num)d proposals.", high)
    if low <= 0:
        return ngettext("Choose up to %(num)d proposal.", "Choose up to %(num)d proposals.", high)
    return _("Choose from %(min)d to %(max)d proposals.", min=low, max=high)


def rule_sentences(rule: BallotRule) -> list[str]:
    """What the voter may choose, in a few short sentences."""
    if rule.own_group is not None:
        return [_own_sentence(rule), *_rule_sentences(rule)]
    return _rule_sentences(rule)


def _own_sentence(rule: BallotRule) -> str:
    if rule.own_group == rules.OwnGroup.SCHOOL:
        return _("This ballot shows only the works of your school: you may choose only those.")
    return _("This ballot shows only the works of your region: you may choose only those.")


def _rule_sentences(rule: BallotRule) -> list[str]:
    if rule.kind == RuleKind.ONE_CITY_WIDE:
        return [_("Choose one proposal for the whole city.")]
    sentences = []
    if rule.kind == RuleKind.ONE_PER_REGION:
        sentences.append(_("You may choose at most one proposal in each region."))
        if rule.max_choices is not None:
            sentences.append(
                ngettext(
                    "You may choose in up to %(num)d region.",
                    "You may choose in up to %(num)d regions.",
                    rule.max_choices,
                )
            )
        low = 1 if rule.min_choices is None else rule.min_choices
        if low > 1:
            sentences.append(_count_range(low, None))
        return sentences
    if rule.by_region:
        low, high = rules.region_limits(rule)
        sentences.append(_("In each region you choose in:") + " " + _count_range(low, high))
        sentences.append(_("You may leave out the regions you do not want to choose in."))
    else:
        low, high = rules.overall_limits(rule)
        if low > 0 or high is not None:
            sentences.append(_count_range(low, high))
    if rule.kind == RuleKind.KNAPSACK:
        if rule.by_region:
            sentences.append(_("The proposals you choose in a region must fit its budget."))
        else:
            sentences.append(
                _(
                    "The total cost of your choices must fit the budget of %(budget)s.",
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
    return sentences
