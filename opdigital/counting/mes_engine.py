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

For Equal Shares completed, a run also keeps a `Trace` of what it decided; `Run.repeats` and
`Linear` prove that every budget per voter in a stretch above gives the same outcome, so the
completion can skip those budgets without running them (see `equal_shares`).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor, gcd, inf, lcm

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


@dataclass
class Trace:
    """What a run decided: each round's exact rho (the winner's price per unit of cost) and
    winner, in funding order."""

    winners: list[tuple[Fraction, int]]


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
        self.trace = Trace(winners=[])

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
                # The true rho, in money: q is in 1/scale units, and the scale may change below.
                self.trace.winners.append(
                    (Fraction(q[0], q[1] * self.scale) / costs[winner], winner)
                )
                self._pay(winner, *q)
            # else: only unaffordable candidates, dropped: price the round again without them
        return chosen

    def repeats(self, trace: Trace) -> bool:
        """True when every budget per voter from the traced run's up to this run's (which must
        not be smaller) gives the traced outcome: the same winners in the same order.

        Replays the traced winners at this budget. Given the same winners before a round, a
        voter's money at that round never decreases as the starting budget grows (each payment
        is min(budget, q), and more money only lowers q), so a project's rho never increases,
        and one that cannot be paid for at this budget cannot be paid for at any smaller one.
        Hence, round by round, at every budget in between: the winner is still affordable and
        its rho is at most its traced rho; any other project is unaffordable if it is here, and
        otherwise its rho is at least its rho here. So the winner still wins if it beats every
        other project's rho computed here (with the tie-break), and nothing more is funded if
        no project is affordable here after the last winner. A False is not proof that the
        outcome changes, only that this check cannot tell.
        """
        costs, tie = self.prep.costs, self.prep.tie
        # Lower bounds on each project's float rho here (inf: unaffordable here); rho only
        # grows as rounds go by, since money only goes down.
        lower = dict(self.bound)
        for rho, winner in trace.winners:
            if lower.pop(winner, inf) == inf:
                return False
            limit = float(rho) * (1 + EPS)  # above the exact rho
            for i in list(lower):
                if lower[i] > limit:
                    continue
                q = self._float_price(i)
                if q is None:
                    lower[i] = inf
                    continue
                if q != _UNCLEAR and q / float(costs[i]) > limit:
                    lower[i] = q / float(costs[i]) * (1 - EPS)
                    continue
                exact = self.exact_price(i)
                if exact is None:
                    lower[i] = inf
                    continue
                rho_i = Fraction(exact[0], exact[1] * self.scale) / costs[i]
                if (rho_i, tie[i], i) < (rho, tie[winner], winner):
                    return False
                lower[i] = float(rho_i) * (1 - EPS)
            q = self.exact_price(winner)
            if q is None:
                return False
            self._pay(winner, *q)
        return all(
            bound == inf or self._float_price(i) is None or self.exact_price(i) is None
            for i, bound in lower.items()
        )

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


class _NotOneStep(Exception):
    """`Linear` found a limit under one increment: nothing to prove."""


class Linear:
    """A traced outcome replayed at its own budget per voter b, with every voter's money kept
    as an exact line in t (money at b + t = value + slope * t), to find how far above b it
    provably holds (`extent`).

    While every winner's split between voters who pay their share q and voters who pay all they
    have (because they have less than q) stays the same, q, the winners' rhos and everyone's
    money are exact lines in t. A competitor's q is then a convex function of t (its affordable
    region {(t, q): sum of min(money, q) >= cost} is convex), so the line of its current split
    is below it everywhere: the winner keeps winning while its line stays below that one. So
    each round gives limits on t: where a winner's split changes (a voter's money line crosses
    q's), where a competitor's line meets the winner's, where an unaffordable project's
    supporters' money reaches its cost. `Run.repeats` is the other check; this one is exact on
    stretches where splits do not change, which is where it matters: a few voter groups and a
    huge budget, where outcomes can approach each other for billions of increments.
    """

    def __init__(self, prep: Prepared, per_voter: Fraction, increment: Money) -> None:
        self.prep = prep
        self.per_voter = Fraction(per_voter)
        self.increment = increment
        # The smallest limit on t found so far, and whether t may equal it.
        self.limit: Fraction | None = None
        self.limit_open = False

    def _start(self) -> None:
        self.value: list[Fraction] = []  # class -> money at t = 0
        self.slope: list[Fraction] = []  # class -> money gained per unit of t
        # Sorting by (float, exact) compares few Fractions (float() rounds correctly, so it
        # never inverts an order); classes are found by their lines as ints (Fraction hashes
        # are slow).
        self.sort_key: list[tuple[float, Fraction]] = []
        self.class_of: dict[tuple[int, int, int, int], int] = {}
        self._class(self.per_voter, Fraction(1))
        self.type_class = [0] * len(self.prep.types)

    def _cap(self, t: Fraction, open_: bool) -> None:
        if self.limit is None or t < self.limit or (t == self.limit and open_):
            self.limit, self.limit_open = t, open_
            if t < self.increment or (t == self.increment and open_):
                raise _NotOneStep  # where outcomes move at every step: stop early

    def _price(self, i: int) -> tuple[Fraction | None, Fraction, Counter]:
        """(q, dq/dt, supporters per class) for project i with the split at t = 0+; when its
        supporters cannot pay: (None, the t at which their money reaches the cost or None if
        it never does, supporters per class)."""
        hist = Counter(map(self.type_class.__getitem__, self.prep.expanded[i]))
        value, slope = self.value, self.slope
        cost = self.prep.costs[i]
        paid, paid_slope, left = Fraction(0), Fraction(0), self.prep.approvals[i]
        for c in sorted(hist, key=self.sort_key.__getitem__):
            if cost - paid <= left * value[c]:
                # Poorer classes pay all they have (money < q); the others pay q.
                return (cost - paid) / left, -paid_slope / left, hist
            paid += hist[c] * value[c]
            paid_slope += hist[c] * slope[c]
            left -= hist[c]
        # All their money grows by paid_slope per unit of t: it stays short of the cost before
        # that t (None: for ever).
        return None, (cost - paid) / paid_slope if paid_slope else None, hist

    def extent(self, trace: Trace) -> int | None:
        """Increments above b up to which the traced outcome is proven (None: no limit)."""
        try:
            # The winners' splits alone first: cheap, and where voters' money is spread over
            # many values (real votes) one of them changes within an increment.
            self._extent(trace, competitors=False)
            return self._extent(trace, competitors=True)
        except _NotOneStep:
            return 0

    def _extent(self, trace: Trace, *, competitors: bool) -> int | None:
        self._start()
        prep = self.prep
        costs, tie, approvals = prep.costs, prep.tie, prep.approvals
        remaining = {i for i, c in enumerate(costs) if c > 0 and approvals[i] > 0}
        for rho, winner in trace.winners:
            q, dq, hist = self._price(winner)
            if q is None or q / costs[winner] != rho or winner not in remaining:
                return 0  # not the traced run: prove nothing
            remaining.discard(winner)
            key = (tie[winner], winner)
            for i in sorted(remaining) if competitors else ():
                if Fraction(1, approvals[i]) > rho or (
                    Fraction(1, approvals[i]) == rho and key < (tie[i], i)
                ):
                    continue  # rho_i >= 1/approvals > rho >= the winner's rho for t >= 0
                q_i, dq_i, _ = self._price(i)
                if q_i is None:
                    # Unaffordable now, so in every later round: one limit (dq_i is then the t
                    # at which its supporters' money reaches its cost), then forget it.
                    if dq_i is not None:
                        self._cap(dq_i, True)
                    remaining.discard(i)
                    continue
                # The winner's rho line must stay under the competitor's (ties: the tie-break).
                gap = q_i / costs[i] - rho
                closing = dq / costs[winner] - dq_i / costs[i]
                if gap < 0 or (gap == 0 and key > (tie[i], i)):
                    return 0
                if closing > 0:
                    self._cap(gap / closing, key > (tie[i], i))
            self._pay(winner, q, dq, hist)
        for i in remaining if competitors else ():
            q_i, reach, _ = self._price(i)
            if q_i is not None:
                return 0
            if reach is not None:
                self._cap(reach, True)
        if self.limit is None:
            return None
        steps = self.limit / self.increment
        return max(0, ceil(steps) - 1 if self.limit_open else floor(steps))

    def _pay(self, winner: int, q: Fraction, dq: Fraction, hist: Counter) -> None:
        value, slope = self.value, self.slope
        moves = {}
        for c in hist:
            if value[c] < q:
                # Pays all it has: holds while its money line stays under q's.
                if slope[c] > dq:
                    self._cap((q - value[c]) / (slope[c] - dq), False)
                moves[c] = self._class(Fraction(0), Fraction(0))
            else:
                # Pays q (its line stays above q's: slope >= 0 >= dq).
                moves[c] = self._class(value[c] - q, slope[c] - dq)
        type_class = self.type_class
        for t in self.prep.supporters[winner]:
            type_class[t] = moves[type_class[t]]

    def _class(self, value: Fraction, slope: Fraction) -> int:
        line = (value.numerator, value.denominator, slope.numerator, slope.denominator)
        c = self.class_of.get(line)
        if c is None:
            c = self.class_of[line] = len(self.value)
            self.value.append(value)
            self.slope.append(slope)
            self.sort_key.append((float(value), value))
        return c
