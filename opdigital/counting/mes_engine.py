"""The engine behind Equal Shares: one run at a given budget per voter, exact and fast.

Pure: standard library only. See `equal_shares` for the rule itself. How it stays fast:

- voters with the same ballot are one weighted "type"; voters whose budgets are equal share a
  budget class (an int); pricing a project counts its supporters per class with a C-level
  `Counter` over a list of its supporting types (each repeated by its weight), then walks the
  few classes; paying re-labels the winner's types with `map` (no Python loop per voter);
- prices are first computed in floating point to find the candidates, and the winner is then
  decided with exact fractions among the projects whose float price is within EPS of the best
  (float error is ~1e-13 here, so no project that could be the exact best is left out); the
  float prices of the last round are lower bounds (less EPS) used to stop a round early, as
  pabutools does with its `affordability`. Budgets are kept exactly, as integers over a common
  denominator (Fraction arithmetic was the bottleneck).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm

from opdigital.counting.instance import (
    Instance,
    Money,
    Profile,
    ProjectId,
    approval_counts,
    tie_key,
)

EPS = 1e-9
_UNCLEAR = -1.0  # float pricing too close to the affordability limit: decide exactly


@dataclass
class Prepared:
    """Ballots as project indices, computed once per count (and reused by Add1)."""

    ids: list[ProjectId]
    costs: list[Money]
    approvals: list[int]
    tie: list[tuple]
    types: list[tuple[int, ...]]
    weights: list[int]
    supporters: list[list[int]]  # project index -> types approving it
    expanded: list[list[int]]  # the same, each type repeated by its weight (one per voter)
    num_voters: int


def prepare(instance: Instance, profile: Profile) -> Prepared:
    """Index the ballots by project; refuses ballots naming unknown projects."""
    counts = approval_counts(instance, profile)
    ids = [p.id for p in instance.projects]
    index = {pid: i for i, pid in enumerate(ids)}
    types: list[tuple[int, ...]] = []
    weights: list[int] = []
    supporters: list[list[int]] = [[] for _ in ids]
    expanded: list[list[int]] = [[] for _ in ids]
    for ballot, weight in zip(profile.ballots, profile.weights, strict=True):
        if not ballot or not weight:
            continue
        t = len(types)
        members = tuple(map(index.__getitem__, ballot))
        types.append(members)
        weights.append(weight)
        repeated = [t] * weight
        for i in members:
            supporters[i].append(t)
            expanded[i] += repeated
    return Prepared(
        ids=ids,
        costs=[p.cost for p in instance.projects],
        approvals=[counts[pid] for pid in ids],
        tie=[tie_key(p, counts) for p in instance.projects],
        types=types,
        weights=weights,
        supporters=supporters,
        expanded=expanded,
        num_voters=profile.num_voters,
    )


class Run:
    """One Equal Shares run with every voter starting at `per_voter`.

    Budgets are exact integers over a common denominator `scale` (value = v / scale): integer
    arithmetic is much faster than Fraction's. When a payment q is not a whole number of units,
    every budget is multiplied up to a finer scale first.
    """

    def __init__(self, prep: Prepared, per_voter: Fraction) -> None:
        self.prep = prep
        scale = per_voter.denominator
        for cost in prep.costs:
            scale = lcm(scale, Fraction(cost).denominator)
        self.scale = scale
        start = int(per_voter * scale)
        self.value: list[int] = [start]  # budget class -> budget of its voters, in 1/scale
        self.fvalue: list[float] = [float(per_voter)]
        self.class_of: dict[int, int] = {start: 0}
        self.by_float: dict[float, int] = {self.fvalue[0]: 0}
        # Two different budgets with the same float: sort classes exactly from then on.
        self.exact_order = False
        self.type_class = [0] * len(prep.types)
        active = [i for i, c in enumerate(prep.costs) if c > 0 and prep.approvals[i] > 0]
        self.bound = {i: 1.0 / prep.approvals[i] * (1 - EPS) for i in active}  # rho only grows
        self.hist: dict[int, Counter] = {}  # this round's supporters per class, by project

    def _hist(self, i: int) -> Counter:
        hist = self.hist.get(i)
        if hist is None:
            hist = self.hist[i] = Counter(map(self.type_class.__getitem__, self.prep.expanded[i]))
        return hist

    def _order(self, hist: Counter) -> list[int]:
        items = sorted(hist, key=self.fvalue.__getitem__)
        if self.exact_order:
            items.sort(key=self.value.__getitem__)
        return items

    def _float_price(self, i: int) -> float | None:
        """Approximate full share q, None if surely unaffordable, _UNCLEAR near the limit."""
        hist, fvalue = self._hist(i), self.fvalue
        cost = float(self.prep.costs[i])
        paid, left = 0.0, self.prep.approvals[i]
        for c in self._order(hist):
            v = fvalue[c]
            q = (cost - paid) / left
            if q <= v:
                # Everyone paying nearly all they have: the exact answer may be "unaffordable".
                return _UNCLEAR if q >= v * (1 - EPS) and left == hist[c] else q
            paid += hist[c] * v
            left -= hist[c]
        return None if paid < cost * (1 - EPS) else _UNCLEAR

    def exact_price(self, i: int) -> tuple[int, int] | None:
        """Exact full share q = num / den (in 1/scale units), None when it is unaffordable."""
        hist, value = self._hist(i), self.value
        cost = int(self.prep.costs[i] * self.scale)
        paid, left = 0, self.prep.approvals[i]
        for c in self._order(hist):
            # Poorest first: if they cannot pay an equal share of what remains, they pay all.
            if cost - paid <= left * value[c]:
                return cost - paid, left
            paid += hist[c] * value[c]
            left -= hist[c]
        return None

    def _candidates(self) -> list[int]:
        """Projects whose float rho is within EPS of the round's best; drops unaffordable ones."""
        costs, bound = self.prep.costs, self.bound
        best = float("inf")
        priced: list[tuple[float, int]] = []
        for i in sorted(bound, key=bound.__getitem__):
            if bound[i] > best * (1 + EPS):
                break  # budgets only shrink, so rho only grows: no later project can win
            q = self._float_price(i)
            if q == _UNCLEAR:
                exact = self.exact_price(i)
                q = None if exact is None else exact[0] / exact[1] / self.scale
            if q is None:
                del bound[i]  # unaffordable now, so for good
                continue
            rho = q / float(costs[i])
            bound[i] = rho * (1 - EPS)
            best = min(best, rho)
            priced.append((rho, i))
        return [i for rho, i in priced if rho <= best * (1 + EPS)]

    def execute(self) -> list[int]:
        """Fund projects round by round; their indices in funding order."""
        chosen: list[int] = []
        costs, tie = self.prep.costs, self.prep.tie
        while self.bound:
            exact: list[tuple[Fraction, tuple, int, tuple[int, int]]] = []
            for i in self._candidates():
                q = self.exact_price(i)
                if q is None:
                    del self.bound[i]
                else:
                    # rho = q / cost; the common scale does not change the comparison.
                    exact.append((Fraction(q[0], q[1]) / costs[i], tie[i], i, q))
            if exact:
                _, _, winner, q = min(exact)
                chosen.append(winner)
                del self.bound[winner]
                self._pay(winner, *q)
            # else: only unaffordable candidates, dropped: price the round again without them
        return chosen

    def _rescale(self, factor: int) -> None:
        self.scale *= factor
        self.value = [v * factor for v in self.value]
        self.class_of = {v: c for c, v in enumerate(self.value)}

    def _new_class(self, budget: int) -> int:
        c = self.class_of.get(budget)
        if c is None:
            c = self.class_of[budget] = len(self.value)
            f = budget / self.scale
            if self.by_float.setdefault(f, c) != c:
                self.exact_order = True
            self.value.append(budget)
            self.fvalue.append(f)
        return c

    def _pay(self, winner: int, num: int, den: int) -> None:
        """Supporters of the winner pay min(budget, q): re-label their types' budget class."""
        factor = den // gcd(num, den)
        if factor > 1:
            self._rescale(factor)
        q = num * factor // den
        value, type_class = self.value, self.type_class
        moves = {
            c: self._new_class(value[c] - q if value[c] > q else 0) for c in self._hist(winner)
        }
        supporters = self.prep.supporters[winner]
        # C-speed: type_class[t] = moves[type_class[t]] for every type approving the winner.
        olds = map(type_class.__getitem__, supporters)
        deque(map(type_class.__setitem__, supporters, list(map(moves.__getitem__, olds))), maxlen=0)
        self.hist.clear()  # classes changed: count again next round
        self._compact()

    def _compact(self) -> None:
        """Forget the classes no voter is in any more, so rescaling stays cheap."""
        live = set(self.type_class)
        if len(self.value) <= 2 * len(live) + 16:
            return
        order = sorted(live)
        renumber = {c: k for k, c in enumerate(order)}
        self.value = [self.value[c] for c in order]
        self.fvalue = [self.fvalue[c] for c in order]
        self.class_of = {v: k for k, v in enumerate(self.value)}
        self.by_float = {f: k for k, f in enumerate(self.fvalue)}
        self.type_class = list(map(renumber.__getitem__, self.type_class))
