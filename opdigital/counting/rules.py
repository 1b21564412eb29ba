"""The counting rules by name, as a cycle's `counting_rule` stores them: the one registry.

Pure: standard library only. Every rule returns the selected project ids in the order they were
selected. The tie-break is the same everywhere (`instance.tie_key`): more approvals, then lower
cost, then lower id.

Everything that names a counting rule takes the names from `REGISTRY` (or `RULES`): the
settings a coordinator may store (`voting/settings.py`), the choices of the settings form and
the translated labels (`formatting.COUNTING_RULE_LABELS`), the tally and its verifier, the
Pabulib export. `tests/test_counting_rules.py` checks that they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opdigital.counting.equal_shares import mes_completed, method_of_equal_shares
from opdigital.counting.greedy import greedy, plurality_per_region
from opdigital.counting.instance import Instance, Money, Profile, ProjectId


@dataclass(frozen=True)
class CountingRule:
    """A counting rule's stored name and the facts about it that do not need a screen."""

    name: str
    # The name Pabulib files give the rule in their META `rule` field.
    pabulib_name: str
    # Funds projects until the money runs out, so the cycle needs a budget (plurality per
    # region chooses one work per region whatever it costs).
    needs_budget: bool


REGISTRY: dict[str, CountingRule] = {
    rule.name: rule
    for rule in (
        CountingRule("plurality-per-region", "plurality-per-region", needs_budget=False),
        CountingRule("greedy", "greedy", needs_budget=True),
        CountingRule("mes", "equalshares", needs_budget=True),
        CountingRule("mes-completed", "equalshares/add1", needs_budget=True),
    )
}
RULES = tuple(REGISTRY)
PABULIB_RULE_NAMES = {name: rule.pabulib_name for name, rule in REGISTRY.items()}

__all__ = [
    "PABULIB_RULE_NAMES",
    "REGISTRY",
    "RULES",
    "CountingRule",
    "count",
    "greedy",
    "method_of_equal_shares",
    "mes_completed",
    "plurality_per_region",
]


def count(
    rule: str,
    instance: Instance,
    ballots: Profile | Iterable[Iterable[ProjectId]],
    *,
    per_region: bool = False,
    increment: Money = 1,
) -> list[ProjectId]:
    """Selected project ids under `rule` (one of RULES); `per_region` applies to greedy only."""
    if rule == "plurality-per-region":
        return plurality_per_region(instance, ballots)
    if rule == "greedy":
        return greedy(instance, ballots, per_region=per_region)
    if rule == "mes":
        return method_of_equal_shares(instance, ballots)
    if rule == "mes-completed":
        return mes_completed(instance, ballots, increment=increment)
    raise ValueError(f"unknown counting rule {rule!r}; expected one of {', '.join(RULES)}")
