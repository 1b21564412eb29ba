"""The engine behind Equal Shares: one run at a given budget per voter, exact and fast.

Pure: standard library only. See `equal_shares` for the rule itself. How it stays fast:

- voters with the same ballot are one weighted "type"; before each round, voters are grouped
  in classes by the earlier winners they approve (a bit mask over rounds): a class's money is
  the start less the prices of the rounds it paid for, at least 0. How many supporters of a
  project are in each class does not depend on the budget per voter, so those counts are kept
  for all the runs of a count (and the replays of `mes_sweep`) while they follow the same
  winners, or the same winners in another order (`mes_rounds`): Equal Shares completed's runs
  mostly share their first winners;
- prices are first computed in floating point to find the candidates, and the winner is then
  decided with exact arithmetic among the projects whose float price is within EPS of the best
  (float error is ~1e-13 here, so no project that could be the exact best is left out); the
  float prices of the last round are lower bounds (less EPS) used to stop a round early, as
  pabutools does with its `affordability`. Money is kept exactly, as integers over a common
  denominator (Fraction arithmetic was the bottleneck); an exact price sums the classes that
  surely pay all they have at once and takes only those near the float price one by one.

Equal Shares completed replays a run's winners at other budgets per voter to find where its
outcome can next change: see `mes_sweep`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import repeat
from math import gcd, lcm
from operator import mul

from opdigital.counting.instance import (
    Instance,
    Money,
    Profile,
    ProjectId,
    approval_counts,
    tie_key,
)
from opdigital.counting.mes_rounds import SLOT, Hist, Rounds, rounds_of

EPS = 1e-9
REL = 1e-9  # relative error allowed on a float price when splitting payers (they carry ~1e-14)
ULP = 2.0**-52
_SLOT_MASK = (1 << SLOT) - 1
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
    num_voters: int
    rounds: Rounds | None = field(default=None, repr=False, compare=False)  # see `mes_rounds`


def prepare(instance: Instance, profile: Profile) -> Prepared:
    """Index the ballots by project; refuses ballots naming unknown projects."""
    counts = approval_counts(instance, profile)
    ids = [p.id for p in instance.projects]
    index = {pid: i for i, pid in enumerate(ids)}
    types: list[tuple[int, ...]] = []
    weights: list[int] = []
    supporters: list[list[int]] = [[] for _ in ids]
    for ballot, weight in zip(profile.ballots, profile.weights, strict=True):
        if not ballot or not weight:
            continue
        t = len(types)
        members = tuple(map(index.__getitem__, ballot))
        types.append(members)
        weights.append(weight)
        for i in members:
            supporters[i].append(t)
    return Prepared(
        ids=ids,
        costs=[p.cost for p in instance.projects],
        approvals=[counts[pid] for pid in ids],
        tie=[tie_key(p, counts) for p in instance.projects],
        types=types,
        weights=weights,
        supporters=supporters,
        num_voters=profile.num_voters,
    )


class Run:
    """One Equal Shares run with every voter starting at `per_voter`.

    Voters are grouped by the earlier winners they approve (`mes_rounds`: those groups are
    counted once for all the runs of a count that share their first winners). Money is exact
    as integers over a common denominator `den` (value = v / den; integer arithmetic is much
    faster than Fraction's): a class's money is the start less the prices of the rounds it paid
    for, at least 0. When a price is not a whole number of units, the denominator is refined.
    """

    def __init__(self, prep: Prepared, per_voter: Fraction) -> None:
        self.prep = prep
        self.rounds = rounds_of(prep)
        den = per_voter.denominator
        for cost in prep.costs:
            den = lcm(den, Fraction(cost).denominator)
        self.den = den
        self.start = int(per_voter * den)
        self.q: list[int] = []  # each round's full share, in 1/den
        self.qf: list[float] = []  # the same in money, as floats
        # Float money of every class (by id), before clamping at 0; exact money on demand.
        self.vf = [0.0] * len(self.rounds.parent)
        self.vf[0] = float(per_voter)
        self.exact: dict[int, int] = {0: self.start}
        active = [i for i, c in enumerate(prep.costs) if c > 0 and prep.approvals[i] > 0]
        self.bound = {i: 1.0 / prep.approvals[i] * (1 - EPS) for i in active}  # rho only grows

    def _hist(self, i: int) -> Hist:
        hist = self.rounds.hist(len(self.q), i)
        if len(self.vf) < len(self.rounds.parent):
            self._sync()
        return hist

    def _sync(self) -> None:
        """Float money of the classes met since the run began."""
        vf, qf = self.vf, self.qf
        parent, tops = self.rounds.parent, self.rounds.top
        for n in range(len(vf), len(parent)):
            top = tops[n]
            vf.append(vf[parent[n]] - qf[top] if 0 <= top < len(qf) else 0.0)

    def _float_price(self, i: int) -> float | None:
        """Approximate full share q, None if surely unaffordable, _UNCLEAR near the limit."""
        hist = self._hist(i)
        raw = list(map(self.vf.__getitem__, hist.ids))  # money before clamping at 0
        counts = hist.counts
        order = hist.order = sorted(hist.order, key=raw.__getitem__)
        # Those with no money left pay nothing (C-level, no loop per class).
        broke = bisect_right(order, 0.0, key=raw.__getitem__)
        cost = float(self.prep.costs[i])
        paid, left = 0.0, self.prep.approvals[i] - sum(map(counts.__getitem__, order[:broke]))
        for c in order[broke:]:
            v = raw[c]
            q = (cost - paid) / left
            if q <= v:
                # Everyone paying nearly all they have: the exact answer may be "unaffordable".
                return _UNCLEAR if q >= v * (1 - EPS) and left == counts[c] else q
            paid += counts[c] * v
            left -= counts[c]
        return None if paid < cost * (1 - EPS) else _UNCLEAR

    def _exact_money(self, ids: list[int]) -> list[int]:
        """Exact money of these classes before clamping at 0, in 1/den."""
        memo, parent, tops, q = self.exact, self.rounds.parent, self.rounds.top, self.q
        out = []
        for n in ids:
            v = memo.get(n)
            if v is None:
                chain = []
                while v is None:
                    chain.append(n)
                    n = parent[n]
                    v = memo.get(n)
                for c in reversed(chain):
                    v = memo[c] = v - q[tops[c]]
            out.append(v)
        return out

    def exact_price(self, i: int) -> tuple[int, int] | None:
        """Exact full share q = num / den (in 1/den units), None when it is unaffordable.

        Floats find where the supporters paying all they have end; those surely below are
        summed exactly at once (their money is the start less the prices of the rounds they
        paid for, so the sum needs only how many of them paid each round: one big-integer sum
        of their spread masks, see `mes_rounds`), those near it one by one, in exact order.
        """
        hist = self._hist(i)
        counts, ids = hist.counts, hist.ids
        raw = list(map(self.vf.__getitem__, ids))
        money = list(map(max, raw, repeat(0.0)))
        order = hist.order = sorted(hist.order, key=raw.__getitem__)
        cost_f, voters = float(self.prep.costs[i]), self.prep.approvals[i]
        paid_f, left = 0.0, voters
        for c in order:
            if cost_f - paid_f <= left * money[c]:
                break
            paid_f += counts[c] * money[c]
            left -= counts[c]
        else:
            return self._exact_price_all(hist, i)
        q_f = (cost_f - paid_f) / left
        # Float money is the start less up to `rounds` prices, each rounded, then subtracted
        # with rounding: its error is under (rounds + 2) ** 2 ulps of the start (doubled).
        tol = 2 * (len(self.q) + 2) ** 2 * ULP * self.vf[0]
        band = REL * q_f + 4 * tol
        sure = bisect_left(order, q_f - band, key=money.__getitem__)  # surely pay all
        end = bisect_right(order, q_f + band, lo=sure, key=money.__getitem__)  # surely pay q
        below = order[:sure]
        positive = [c for c in below if raw[c] > 8 * tol]
        unclear = [ids[c] for c in below if -8 * tol <= raw[c] <= 8 * tol]
        if unclear:  # too close to zero for floats: which have money left, exactly
            lookup = dict(zip(unclear, self._exact_money(unclear), strict=True))
            positive += [c for c in below if lookup.get(ids[c], 0) > 0]
        weights = list(map(counts.__getitem__, positive))
        spread = self.rounds.spread
        total = sum(map(mul, weights, map(spread.__getitem__, map(ids.__getitem__, positive))))
        paid_per_round = [(total >> (SLOT * k)) & _SLOT_MASK for k in range(len(self.q))]
        paid = sum(weights) * self.start - sum(map(mul, paid_per_round, self.q))
        left = voters - sum(map(counts.__getitem__, below))
        cost = int(self.prep.costs[i] * self.den)
        middle = order[sure:end]
        values = [max(v, 0) for v in self._exact_money([ids[c] for c in middle])]
        for v, c in sorted(zip(values, middle, strict=True)):
            if cost - paid <= left * v:
                break
            paid += counts[c] * v
            left -= counts[c]
        else:
            if end == len(order):
                return None  # everyone pays all they have, exactly, and it is not enough
        # (One division of integers: the denominator may be far beyond float range.)
        q_x = (cost - paid) / (left * self.den) * (1 - 4 * ULP)
        if (sure and money[order[sure - 1]] + 2 * tol >= q_x) or (
            end < len(order) and money[order[end]] - 2 * tol <= q_x
        ):
            return self._exact_price_all(hist, i)  # the float split was off: all exactly
        return cost - paid, left

    def _exact_price_all(self, hist: Hist, i: int) -> tuple[int, int] | None:
        """`exact_price` with every class's money exact."""
        money = [v if v > 0 else 0 for v in self._exact_money(hist.ids)]
        counts = hist.counts
        cost = int(self.prep.costs[i] * self.den)
        paid, left = 0, self.prep.approvals[i]
        for c in sorted(hist.order, key=money.__getitem__):
            v = money[c]
            # Poorest first: if they cannot pay an equal share of what remains, they pay all.
            if cost - paid <= left * v:
                return cost - paid, left
            paid += counts[c] * v
            left -= counts[c]
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
                q = None if exact is None else exact[0] / (exact[1] * self.den)
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
                    # rho = q / cost; the common denominator does not change the comparison.
                    exact.append((Fraction(q[0], q[1]) / costs[i], tie[i], i, q))
            if exact:
                _, _, winner, q = min(exact)
                chosen.append(winner)
                del self.bound[winner]
                self._pay(winner, *q)
            # else: only unaffordable candidates, dropped: price the round again without them
        return chosen

    def _pay(self, winner: int, num: int, den: int) -> None:
        """Supporters of the winner pay min(money, q): the next round's classes."""
        factor = den // gcd(num, den)
        if factor > 1:
            self.den *= factor
            self.start *= factor
            self.q = [q * factor for q in self.q]
            self.exact = {0: self.start}
        j = len(self.q)
        self.q.append(num * factor // den)
        q = self.q[j] / self.den
        self.qf.append(q)
        self.rounds.follow(j, winner)
        vf, parent = self.vf, self.rounds.parent
        for n in self.rounds.by_top[j]:
            vf[n] = vf[parent[n]] - q
