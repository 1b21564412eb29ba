"""The next budget per voter at which an Equal Shares outcome can change (for Add1U).

Pure: standard library only. Equal Shares completed (`equal_shares.mes_completed`) reruns Equal
Shares with each voter's budget raised one increment at a time. `mes_stepper.Stepper` finds,
exactly, the first budget on that grid at which the outcome of a run can differ, so the
completion runs Equal Shares only where outcomes change, not once per increment.

The outcome of a run is its winners W_1, ..., W_r in funding order. Fix them and let every voter
start with b + t. A voter's money before round j is then max(0, b + t - sum of the prices q_k it
paid for, k < j): it depends only on which earlier winners it approves (its "class", a bit mask
over rounds), and it never decreases as t grows (each price only falls when its supporters have
more money). Between "events" every class's money and every price q are exact lines in t:

- a winner's supporters split into those who pay the full share q_j (money >= q_j) and the
  others, who pay all they have; q_j = (cost - money of the others) / (number paying q_j). An
  event is where a class's money reaches q_j (it joins those paying q_j, for good: its money
  rises, q_j falls) or leaves zero (it starts paying again).

Between events the outcome stays the same exactly while, in every round, each project not yet
funded either cannot be paid for by its supporters or costs more per unit (rho = q / cost) than
the round's winner (a tie goes to the documented tie-break), and after the last round no project
left can be paid for. For a competitor i against the winner's line rho(t), with Q = cost_i *
rho(t): i beats or ties the winner exactly where F(t) = sum of min(money, Q) over its
supporters - cost_i >= 0; each class adds a term with at most two kinks (money leaves zero;
money reaches Q, above which it stays), so the first root of F is found by one sorted sweep.
A project that cannot be paid for becomes payable where its supporters' money reaches its cost.

A pass (`Sweep.pass_at`) replays the winners at one budget, keeps every line exactly, and returns
the first t at which the outcome fails, or the first event before which it does not. The next
pass starts at the last grid budget before that event (or the next one, when events come more
often than the increment: real votes, where classes of voters reach q at almost every
increment), so passes come at most once per increment and once per event: R$ 100 bilhões one
centavo at a time takes one pass. Where events are that dense, a pass also checks the stretch
back to the last proven budget at once (`Pass.since`), and `mes_stepper` weighs passes against
simply running Equal Shares at the next budget.

Speed: the classes of each round are counted once (`mes_rounds`, shared with the runs of Equal
Shares, which mostly fund the same first winners) and reused by every pass; money and prices
are first computed in floating point with explicit error allowances, to find the classes near a
decision and to rule out the competitors that are clearly dearer; every decision itself is
exact (integer sums over classes, Fractions for the prices and the roots), and every float
bound errs on the safe side.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate, repeat
from math import gcd, inf
from operator import add, mul

from opdigital.counting.mes_engine import Prepared
from opdigital.counting.mes_rounds import SLOT, Hist, rounds_of

ZERO = Fraction(0)
ONE = Fraction(1)
# Relative error allowed on float prices when splitting payers (they carry ~1e-14: a wide band
# only sends a few more classes to exact arithmetic).
REL = 1e-9
ULP = 2.0**-52


@dataclass
class Pass:
    """What a pass at budget b found: the outcome fails first at b + t (`failed`; `closed`: at
    it, else just above it), or it holds on [b, b + t] (t: the first event, or the horizon);
    `since`: it also holds at every budget between the reference budget a and b; `rhos`: each
    round's winner's rho as a line (value at b, slope), exact up to b + t."""

    t: Fraction
    closed: bool
    failed: bool
    since: bool
    rhos: list[tuple[Fraction, Fraction]]


class Sweep:
    """The winners of one run, replayed at any budget per voter (see the module docstring)."""

    def __init__(self, prep: Prepared, winners: list[int]) -> None:
        self.prep = prep
        self.winners = winners
        self.passes = 0
        # The classes of each round's supporters, shared with the runs (which mostly share
        # their first winners with this outcome): see `mes_rounds`.
        self.rounds = rounds_of(prep)
        self.rounds.follow_all(winners)
        # Float lines of every class mask (by id): a pass computes those of all of them in one
        # loop per round (a mask's line is its parent's less that round's q), round by round as
        # the q's become known. Kept with the shared rounds for the next outcome's passes.
        if self.rounds.sweep_lines is None:
            self.rounds.sweep_lines = ([0.0], [1.0])
        self._vf, self._df = self.rounds.sweep_lines
        self._qvf: list[float] = []
        self._qdf: list[float] = []

    def hist(self, j: int, i: int) -> Hist:
        """Project i's supporters at round j, by class."""
        found = self.rounds.hist(j, i)
        if len(self._vf) < len(self.rounds.parent):
            self._sync()
        return found

    def _sync(self) -> None:
        """Lines of the masks met since (those whose round is priced in this pass, at once)."""
        vf, df, qvf, qdf = self._vf, self._df, self._qvf, self._qdf
        parent, tops = self.rounds.parent, self.rounds.top
        for n in range(len(vf), len(parent)):
            top = tops[n]
            if 0 <= top < len(qvf):
                p = parent[n]
                vf.append(vf[p] - qvf[top])
                df.append(df[p] - qdf[top])
            else:
                vf.append(0.0)
                df.append(0.0)

    def _lines_of_round(self, top: int) -> None:
        """Float lines of the masks whose last paid round is `top`, now that its q is known."""
        vf, df, parent = self._vf, self._df, self.rounds.parent
        q, dq = self._qvf[top], self._qdf[top]
        for n in self.rounds.by_top[top]:
            p = parent[n]
            vf[n] = vf[p] - q
            df[n] = df[p] - dq

    # Lines of money before paying: class mask -> raw money b + t - sum of its q's, as
    # (value at t = 0, slope); money is max(0, raw). Floats for screening, exact for decisions.

    def _line_x(self, m: int) -> tuple[Fraction, Fraction]:
        found = self._lx.get(m)
        if found is None:
            top = m.bit_length() - 1
            v, d = self._line_x(m ^ (1 << top))
            found = self._lx[m] = (v - self._qv[top], d - self._qd[top])
        return found

    def pass_at(self, base: Fraction, horizon: Fraction, ref: list[Fraction] | None) -> Pass:
        """Replay the winners with every voter starting at `base`, looking up to `horizon` above;
        with `ref`, the winners' rhos at a smaller budget a, also check that the outcome holds on
        all of [a, base] (see `Pass`)."""
        self.passes += 1
        prep = self.prep
        costs, tie, approvals = prep.costs, prep.tie, prep.approvals
        self._qv: list[Fraction] = []
        self._qd: list[Fraction] = []
        self._qvf: list[float] = []
        self._qdf: list[float] = []
        self._sync()
        self._vf[0] = float(base)
        self._reach = float(base)  # at most |money line value|: base times (1 + rounds)
        self._steep = 1.0  # at most any money line's slope: 1 + the sum of |dq|
        self._lx = {0: (base, ONE)}
        # The q's (and their slopes) as integers over a common denominator, with the base.
        self._qv_den = base.denominator
        self._qv_base = base.numerator
        self._qv_int: list[int] = []
        self._qd_den = self._qd_base = 1
        self._qd_int: list[int] = []
        # Float money is base less up to `rounds` prices, each rounded, then subtracted with
        # rounding: its error is under (rounds + 2) ** 2 ulps of the base (doubled for safety).
        self._tol = 2 * (len(self.winners) + 2) ** 2 * ULP * float(base)
        events = horizon  # the first event found so far
        rhos: list[tuple[Fraction, Fraction]] = []
        # First the winners, round by round: their prices and the first event. Then every
        # competitor against each round's winner, up to that event only.
        for j, winner in enumerate(self.winners):
            priced = self._price_winner(j, winner, float(events))
            if priced is None:  # the winner cannot be paid for at the base
                return Pass(ZERO, True, True, False, rhos)
            qv, qd, event = priced
            if event is not None and event < events:
                events = event
            self._add_q(qv, qd)
            rhos.append((qv / costs[winner], qd / costs[winner]))
        limit = events  # what is left to look at: the first event or failure found so far
        fail: tuple[Fraction, bool] | None = None
        since = ref is not None
        remaining = {i for i, c in enumerate(costs) if c > 0 and approvals[i] > 0}
        # Float lower bounds on each competitor's rho over the pass (rho only grows with rounds
        # and falls with t: a bound at the limit holds for every later round).
        lower = {i: (1 - 4 * ULP) / approvals[i] for i in remaining}
        for j, winner in enumerate(self.winners):
            remaining.discard(winner)
            lower.pop(winner, None)
            rho_v, rho_d = rhos[j]
            rho_up = float(rho_v) * (1 + 4 * ULP)  # the winner's rho at t = 0 is its largest
            ref_up = float(ref[j]) * (1 + 4 * ULP) if since and ref else 0.0
            key = (tie[winner], winner)
            for i in sorted(remaining):
                top = max(rho_up, ref_up) if since else rho_up
                if lower[i] > top:
                    continue
                hist = self.hist(j, i)
                bound = self._rho_lower(i, hist, _up(limit))
                if bound is None:
                    remaining.discard(i)  # cannot be paid for up to the limit, nor later
                    continue
                lower[i] = bound
                if since and bound <= ref_up and ref:
                    # Over [a, base], i's rho is at least its rho here, the winner's at most
                    # its rho at a: i cannot take the round if the first exceeds the second.
                    since = self._dearer(i, hist, ref[j] * costs[i])
                if bound > rho_up:
                    continue
                found = self._first_win(i, hist, rho_v, rho_d, (tie[i], i) < key, limit)
                if found is not None and (fail is None or _earlier(found, fail)):
                    fail = found
                    limit = min(limit, found[0])
        last = len(self.winners)
        for i in sorted(remaining):
            hist = self.hist(last, i)
            if self._money_upper(hist, _up(limit)) < float(costs[i]):
                continue
            found = self._first_afford(i, hist, limit)
            if found is not None and (fail is None or _earlier(found, fail)):
                fail = found
                limit = min(limit, found[0])
        if fail is not None and (fail[0] < events or (fail[0] == events and fail[1])):
            return Pass(fail[0], fail[1], True, since and fail[0] > 0, rhos)
        return Pass(events, True, False, since, rhos)

    def _add_q(self, qv: Fraction, qd: Fraction) -> None:
        self._qv.append(qv)
        self._qd.append(qd)
        self._qvf.append(float(qv))
        self._qdf.append(float(qd))
        self._reach += self._vf[0]
        self._steep -= self._qdf[-1]
        self._qv_den, self._qv_base, self._qv_int = _appended(
            qv, self._qv_den, self._qv_base, self._qv_int
        )
        self._qd_den, self._qd_base, self._qd_int = _appended(
            qd, self._qd_den, self._qd_base, self._qd_int
        )
        self._lines_of_round(len(self._qvf) - 1)

    def _ints(self, masks: list[int]) -> tuple[list[int], list[int]]:
        """Exact lines of these classes as integers: values over `_qv_den`, slopes over
        `_qd_den` (money b + t - the q's paid; integers are far faster than Fractions)."""
        qv, qd = self._qv_int, self._qd_int
        base_v, base_d = self._qv_base, self._qd_base
        values, slopes = [], []
        for m in masks:
            v, d = base_v, base_d
            while m:
                bit = m & -m
                k = bit.bit_length() - 1
                v -= qv[k]
                d -= qd[k]
                m ^= bit
            values.append(v)
            slopes.append(d)
        return values, slopes

    def _dearer(self, i: int, hist: Hist, q: Fraction) -> bool:
        """Exactly: at t = 0, project i cannot be paid for or its full share is above q."""
        values, _ = self._ints(hist.masks)
        den = self._qv_den
        cap = q.numerator * den  # min(money, q), all over den * q.denominator
        scale = q.denominator
        pairs = zip(values, hist.counts, strict=True)
        total = sum(h * min(v * scale, cap) for v, h in pairs if v > 0)
        return total < self.prep.costs[i] * den * scale

    def _floats(self, hist: Hist) -> tuple[list[float], list[float]]:
        """Float lines (values, slopes) of these classes."""
        return list(map(self._vf.__getitem__, hist.ids)), list(map(self._df.__getitem__, hist.ids))

    def _price_winner(
        self, j: int, winner: int, limit_f: float
    ) -> tuple[Fraction, Fraction, Fraction | None] | None:
        """The winner's exact price line (q, dq/dt) at t = 0+, and a lower bound on the first
        event of its round under `limit_f` (a class of its supporters reaching q or leaving
        zero money; None: none before it). None when the winner cannot be paid for.

        Floats find the split between voters paying all they have and those paying q; the
        sure payers-of-all are summed exactly without a Fraction per class: their money is
        base - sum of the q's of the rounds they paid, so the sum needs only how many of them
        paid each round, read from one big-integer sum of their spread masks.
        """
        tol = self._tol
        hist = self.hist(j, winner)
        masks, counts = hist.masks, hist.counts
        values, slopes = self._floats(hist)
        event = limit_f  # a float lower bound on the first event
        exact_event: Fraction | None = None  # the first of those computed exactly
        money = list(values)
        rising = list(slopes)
        broke = [1] * len(masks)  # 0: no money left (sorts first), 1: some (maybe 0 exactly)
        for n in [n for n, v in enumerate(values) if v <= tol]:
            v = values[n]
            if v < -8 * tol:
                event = min(event, (-v - 2 * tol) / slopes[n] * (1 - 1e-12))
            else:  # too close to zero for floats: decide exactly
                exact_v, exact_d = self._line_x(masks[n])
                if exact_v >= 0:
                    money[n] = float(exact_v)
                    continue
                exact_event = _least(exact_event, -exact_v / exact_d)
            money[n] = rising[n] = 0.0
            broke[n] = 0
        # By money, those with none left first; the classes' last order is almost sorted
        # already (see `Hist.order`).
        key = [m if b else -1.0 for m, b in zip(money, broke, strict=True)]
        order = hist.order = sorted(hist.order, key=key.__getitem__)
        xs = list(map(money.__getitem__, order))
        hs = list(map(counts.__getitem__, order))
        found = _fill(xs, hs, float(self.prep.costs[winner]), self.prep.approvals[winner])
        q_f = found[1] if found else xs[-1]
        band = REL * q_f + 4 * tol
        sure = bisect_left(xs, q_f - band)  # surely pay all they have
        unsure = bisect_right(xs, q_f + band)  # from here on surely pay q
        exact = self._exact_q(winner, hist, order[:sure], order[sure:unsure], broke)
        if exact is None:
            return None
        qv, qd, paying_all = exact
        qv_f, qd_f = float(qv), float(qd)
        if (sure and xs[sure - 1] + 2 * tol >= qv_f) or (
            unsure < len(xs) and xs[unsure] - 2 * tol <= qv_f
        ):
            exact = self._exact_all(winner, hist)  # the float split was off: all exactly
            if exact is None:
                return None
            qv, qd, paying_all = exact
            qv_f, qd_f = float(qv), float(qd)
        # A class paying all it has, its money rising, reaches q at (q - money) / (d - dq);
        # exactly when it is too close for floats to tell.
        reach = qv_f * (1 - 4 * ULP) - 2 * tol
        far = []
        for n in paying_all:
            if rising[n] > 0.0:
                if reach - money[n] >= 8 * tol:
                    far.append(n)
                else:
                    v, d = self._line_x(masks[n])
                    exact_event = _least(exact_event, (qv - v) / (d - qd))
        first = min(((reach - money[n]) / (rising[n] - qd_f) for n in far), default=inf)
        event = max(0.0, min(event, first * (1 - 1e-12)))
        if exact_event is not None and exact_event < event:
            return qv, qd, exact_event
        return qv, qd, Fraction(event) if event < limit_f else None

    def _exact_q(
        self, winner: int, hist: Hist, sure: list[int], unsure: list[int], broke: list[int]
    ) -> tuple[Fraction, Fraction, list[int]] | None:
        """Exact water-filling, given the classes that surely pay all they have (`sure`) and
        those that may (`unsure`, taken exactly, in exact order of money): (q, dq/dt, the
        classes paying all they have) or None when the cost is not reached."""
        counts, ids, spread = hist.counts, hist.ids, self.rounds.spread
        left = self.prep.approvals[winner] - sum(map(counts.__getitem__, sure))
        with_money = list(filter(broke.__getitem__, sure))
        weights = list(map(counts.__getitem__, with_money))
        voters = sum(weights)
        total = sum(map(mul, weights, map(spread.__getitem__, map(ids.__getitem__, with_money))))
        paid = [(total >> (SLOT * k)) & ((1 << SLOT) - 1) for k in range(len(self._qv))]
        paid_v = voters * self._qv_base - sum(map(mul, paid, self._qv_int))
        paid_d = voters * self._qd_base - sum(map(mul, paid, self._qd_int))
        paid_v_x = Fraction(paid_v, self._qv_den)
        paid_d_x = Fraction(paid_d, self._qd_den)
        cost = self.prep.costs[winner]
        rest = sorted(
            (max(ZERO, v), d if v >= 0 else ZERO, n)
            for n in unsure
            for v, d in (self._line_x(hist.masks[n]),)
        )
        paying_all = list(sure)
        for v, d, n in rest:
            if cost - paid_v_x <= left * v:
                break
            paid_v_x += counts[n] * v
            paid_d_x += counts[n] * d
            left -= counts[n]
            paying_all.append(n)
        if left == 0:
            return None
        return (cost - paid_v_x) / left, -paid_d_x / left, paying_all

    def _exact_all(self, winner: int, hist: Hist) -> tuple[Fraction, Fraction, list[int]] | None:
        """Water-filling with every class exact (when the float split was not clear)."""
        rest = sorted(
            (max(ZERO, v), d if v >= 0 else ZERO, n)
            for n, m in enumerate(hist.masks)
            for v, d in (self._line_x(m),)
        )
        cost, left = self.prep.costs[winner], self.prep.approvals[winner]
        paid_v = paid_d = ZERO
        paying_all = []
        for v, d, n in rest:
            if cost - paid_v <= left * v:
                return (cost - paid_v) / left, -paid_d / left, paying_all
            paid_v += hist.counts[n] * v
            paid_d += hist.counts[n] * d
            left -= hist.counts[n]
            paying_all.append(n)
        return None

    def _float_money(self, hist: Hist, t: float) -> tuple[list[float], float]:
        """Float money at t per class, and a bound on the error of each (|money| is at most
        rounds * base, slopes at most 1 + the sum of |dq|)."""
        values, slopes = self._floats(hist)
        money = list(map(max, map(add, values, map(t.__mul__, slopes)), repeat(0.0)))
        return money, self._tol + 4 * (len(self._qvf) + 4) * ULP * (self._reach + self._steep * t)

    def _rho_lower(self, i: int, hist: Hist, t: float) -> float | None:
        """A float lower bound on i's rho at t (None: surely unaffordable there)."""
        money, err = self._float_money(hist, t)
        # By money; the classes' last order is almost sorted already (see `Hist.order`).
        order = hist.order = sorted(hist.order, key=money.__getitem__)
        xs = list(map(money.__getitem__, order))
        hs = list(map(hist.counts.__getitem__, order))
        cost = float(self.prep.costs[i])
        slack = 4 * len(xs) * ULP
        found = _fill(xs, hs, cost, self.prep.approvals[i], err)  # more money: a lower price
        if found is None:
            paid = sum(map(mul, hs, xs)) + err * self.prep.approvals[i]
            return None if paid * (1 + slack) < cost else 0.0
        paid, q = found[2], found[1]
        return max(0.0, q - slack * (cost + paid) / found[3]) / cost * (1 - slack)

    def _money_upper(self, hist: Hist, t: float) -> float:
        money, err = self._float_money(hist, t)
        total = sum(map(mul, hist.counts, money)) + err * sum(hist.counts)
        return total * (1 + 4 * len(money) * ULP)

    def _first_afford(self, i: int, hist: Hist, limit: Fraction) -> tuple[Fraction, bool] | None:
        """First t in [0, limit] at which i's supporters hold its cost, or None."""
        values, slopes = self._ints(hist.masks)
        vd, sd = self._qv_den, self._qd_den
        held = rising = 0
        kinks = []
        limit_f = _up(limit)
        for v, d, h in zip(values, slopes, hist.counts, strict=True):
            if v >= 0:
                held += h * v
                rising += h * d
            elif (-v * sd) / (d * vd) <= limit_f * (1 + 1e-9):  # leaves zero within the limit
                kinks.append((Fraction(-v * sd, d * vd), Fraction(h * d, sd)))
        value = Fraction(held, vd) - self.prep.costs[i]
        if value >= 0:
            return ZERO, True
        slope = Fraction(rising, sd)
        kinks.sort()
        t0 = ZERO
        for t, more in [*kinks, (limit, ZERO)]:
            t = min(t, limit)
            if slope > 0 and value + slope * (t - t0) >= 0:
                return t0 - value / slope, True
            if t == limit:
                return None
            value += slope * (t - t0)
            t0 = t
            slope += more
        return None

    def _first_win(
        self,
        i: int,
        hist: Hist,
        rho_v: Fraction,
        rho_d: Fraction,
        beats: bool,
        limit: Fraction,
    ) -> tuple[Fraction, bool] | None:
        """First t in [0, limit] at which project i takes the round from its winner (rho line
        rho_v + rho_d * t): (t, True) at t, (t, False) just above t; None if it never does.

        With Q = cost_i * rho, i beats or ties the winner where F = sum(min(money, Q)) -
        cost_i >= 0 (see the module docstring); it wins where F >= 0 if it wins ties
        (`beats`), else where F > 0, or where it becomes affordable already under Q. Each
        class's term has at most two kinks; only those within the limit are made exact.
        """
        cost = self.prep.costs[i]
        qv, qd = rho_v * cost, rho_d * cost
        values, slopes = self._ints(hist.masks)
        vd, sd = self._qv_den, self._qd_den
        top, bottom = qv.numerator * vd, qv.denominator  # v >= qv <=> v * bottom >= top
        qv_f, qd_f, limit_f = float(qv), float(qd), _up(limit) * (1 + 1e-9)
        paying_q = held = rising = 0
        kinks = []
        for v, d, h in zip(values, slopes, hist.counts, strict=True):
            if v * bottom >= top:
                paying_q += h  # pays Q now, and for good (its money rises, Q falls)
                continue
            if v >= 0:
                held += h * v
                rising += h * d
            elif (-v * sd) / (d * vd) <= limit_f:  # leaves zero within the limit
                kinks.append((Fraction(-v * sd, d * vd), Fraction(h * d, sd)))
            v_f, d_f = v / vd, d / sd
            reach = (qv_f - v_f) / (d_f - qd_f)  # reaches Q (d >= 1 > 0 >= qd)
            if reach - 1e-9 * (reach + (abs(qv_f) + abs(v_f)) / (d_f - qd_f)) <= limit_f:
                v_x, d_x = Fraction(v, vd), Fraction(d, sd)
                kinks.append(((qv - v_x) / (d_x - qd), h * (qd - d_x)))
        value = Fraction(held, vd) + paying_q * qv - cost
        slope = Fraction(rising, sd) + paying_q * qd
        kinks.sort()
        t0 = ZERO
        for t, more in [*kinks, (limit, ZERO)]:
            t = min(t, limit)
            if value > 0 or (value == 0 and beats):
                return t0, True  # (value > 0 only at t0 = 0: the outcome fails at the base)
            if value == 0 and slope > 0:
                return t0, self._cheaper(i, hist, qv + qd * t0, t0)
            if slope > 0 and t > t0:
                root = t0 - value / slope  # F is linear on [t0, t]
                if beats and root <= t:
                    return root, True
                if root < t:
                    return root, self._cheaper(i, hist, qv + qd * root, root)
            if t == limit:
                return None
            value += slope * (t - t0)
            t0 = t
            slope += more
        return None

    def _cheaper(self, i: int, hist: Hist, q: Fraction, t: Fraction) -> bool:
        """At t, where F reaches 0: is i already strictly cheaper than the winner's Q there? Only
        if it becomes affordable exactly at t with every supporter's money under Q."""
        money = [max(ZERO, v + d * t) for v, d in map(self._line_x, hist.masks)]
        total = sum(map(mul, hist.counts, money))
        return total == self.prep.costs[i] and max(money) < q


def _fill(
    xs: list[float] | tuple[float, ...],
    hs: list[int] | tuple[int, ...],
    cost: float,
    voters: int,
    more: float = 0.0,
) -> tuple[int, float, float, int] | None:
    """Float water-filling over money `xs` (ascending; each plus `more`) held by `hs` voters
    each: the first class paying the full share q, q, what the classes before it pay, and how
    many pay q; None when everyone paying all they have does not reach the cost."""
    paid = list(accumulate(map(mul, hs, xs), initial=0.0))
    before = list(accumulate(hs, initial=0))
    lo, hi = 0, len(xs)
    while lo < hi:  # the condition holds from some class on (water-filling)
        mid = (lo + hi) // 2
        # (`more` added to what the classes before paid only where looked at: the same floats)
        if cost - (paid[mid] + more * before[mid] if more else paid[mid]) <= (
            voters - before[mid]
        ) * (xs[mid] + more):
            hi = mid
        else:
            lo = mid + 1
    if lo == len(xs):
        return None
    left = voters - before[lo]
    paid_lo = paid[lo] + more * before[lo] if more else paid[lo]
    return lo, (cost - paid_lo) / left, paid_lo, left


def _least(a: Fraction | None, b: Fraction) -> Fraction:
    return b if a is None or b < a else a


def _up(t: Fraction) -> float:
    """A float at least t (t >= 0)."""
    return float(t) * (1 + 4 * ULP)


def _earlier(found: tuple[Fraction, bool], than: tuple[Fraction, bool]) -> bool:
    return found[0] < than[0] or (found[0] == than[0] and found[1] and not than[1])


def _appended(value: Fraction, den: int, base: int, ints: list[int]) -> tuple[int, int, list[int]]:
    """`ints` (numerators over `den`) with `value` appended: the denominator grows to take it,
    and `base` (over the same denominator) and the earlier numerators are scaled with it."""
    factor = value.denominator // gcd(value.denominator, den)
    if factor > 1:
        den, base, ints = den * factor, base * factor, [x * factor for x in ints]
    ints.append(value.numerator * (den // value.denominator))
    return den, base, ints
