"""The counting rules by name, as a cycle's `counting_rule` stores them.

Pure: standard library only. Every rule returns the selected project ids in the order they were
selected. The tie-break is the same everywhere (`instance.tie_key`): more approvals, then lower
cost, then lower id.
"""

from __future__ import annotations

from collections.abc import Iterable

from opdigital.counting.equal_shares import mes_completed, method_of_equal_shares
from opdigital.counting.greedy import greedy, plurality_per_region
from opdigital.counting.instance import Instance, Money, Profile, ProjectId

RULES = ("plurality-per-region", "greedy", "mes", "mes-completed")
# The name Pabulib files give each rule in their META `rule` field.
PABULIB_RULE_NAMES = {
    "plurality-per-region": "plurality-per-region",
    "greedy": "greedy",
    "mes": "equalshares",
    "mes-completed": "equalshares/add1",
}

__all__ = [
    "RULES",
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
