"""Splitting a cycle's budget among regions (pure).

The formula follows OP Regional practice: a share of the money (`equal_share_percent`) is divided
equally among the regions; the rest in proportion to population x need index, so that poorer and
larger regions get more. Amounts are whole centavos and always add up to the total exactly:
the centavos lost to rounding go to the regions with the largest remainders (ties by the
region key, the smaller first).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

# R$ 100 bilhões: any amount above is a typo, and it keeps sums far inside a 64-bit column.
MAX_AMOUNT_CENTS = 10**13


@dataclass(frozen=True)
class RegionWeight:
    key: str
    population: int
    need_index: float


def split_budget(
    total_cents: int, regions: list[RegionWeight], equal_share_percent: int
) -> dict[str, int]:
    """Region key -> centavos, by the documented formula."""
    if total_cents < 0:
        raise ValueError("total must not be negative")
    if not 0 <= equal_share_percent <= 100:
        raise ValueError("equal share must be between 0 and 100 percent")
    if not regions:
        return {}
    weights = {r.key: Fraction(r.population) * Fraction(r.need_index) for r in regions}
    weight_sum = sum(weights.values())
    equal_part = Fraction(total_cents * equal_share_percent, 100)
    weighted_part = Fraction(total_cents) - equal_part
    if weight_sum == 0:  # no population data: everything is split equally
        equal_part, weighted_part = Fraction(total_cents), Fraction(0)
    exact = {
        key: equal_part / len(regions) + (weighted_part * w / weight_sum if weight_sum else 0)
        for key, w in weights.items()
    }
    shares = {key: int(value) for key, value in exact.items()}
    leftover = total_cents - sum(shares.values())
    by_remainder = sorted(exact, key=lambda k: (-(exact[k] - shares[k]), k))
    for key in by_remainder[:leftover]:
        shares[key] += 1
    return shares
