"""Equal Shares completed's search for the next budget where its outcome can change.

Pure: standard library only. `Stepper.next_change` drives `mes_sweep.Sweep` passes from one
outcome to the next budget at which it can change (see `mes_sweep`), or sends the completion to
the next increment where running Equal Shares there costs less than searching.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil, floor
from time import process_time

from opdigital.counting.instance import Money
from opdigital.counting.mes_engine import Prepared
from opdigital.counting.mes_sweep import Sweep


class Stepper:
    """Equal Shares completed's search over budgets per voter start + k * increment, k up to
    `last`: where the outcome at k may next change (`next_change`).

    Each pass proves the outcome up to its first event. Where events come more often than the
    increment (real votes), a pass also tries to prove every budget between the last proven one
    and its own (`Pass.since`, with the winners' rhos there as reference): the step doubles
    while that holds; when it does not, the search goes on one increment at a time for a while
    (twice as long after each failure, at most MAX_WAIT passes) before trying again.

    Searching costs its passes and a run where it lands; running Equal Shares at each next
    increment costs a run per increment, and those runs are the cheaper ones (they mostly repeat
    the previous run's winners, whose classes of voters are kept: `mes_rounds`), so they are
    timed apart from the runs where searches land. Where searching has cost more per increment
    covered
    (outcomes changing every few increments, many classes of voters: real votes), judged by the
    CPU time searches and runs have taken so far, the completion runs Equal Shares at the next
    budgets instead (`next_change` returns k + 1) for a while: twice as long each time, at once
    MAX_WAIT runs where a pass costs more than a run, halved after a search that pays. That
    only decides how fast the completion goes, never where it stops: every budget is proven by
    a pass or found by a run.
    """

    def __init__(self, prep: Prepared, start: Fraction, increment: Money, last: int) -> None:
        self.prep = prep
        self.start = start
        self.increment = increment
        self.last = last
        self.passes = 0
        self.wait = 1  # unit passes after a failed try, doubled after each failure
        self.cool = 0  # unit passes left before the next try
        self.runs, self.run_time = 0, 0.0
        # Runs at the next increment, in place of a search: usually cheaper than the average run
        # (most of the winners and their classes are those of the run just before, see
        # `mes_rounds`), while a search lands where the outcome changes.
        self.steps, self.step_time = 0, 0.0
        self._stepping = False
        self.searches, self.search_time, self.searched = 0, 0.0, 0
        self.patience = 1  # runs in a row once searching stops paying off
        self.running = 0  # runs left before searching again

    def ran(self, seconds: float) -> None:
        """Equal Shares was run once more, taking `seconds` of CPU time."""
        self.runs += 1
        self.run_time += seconds
        if self._stepping:
            self.steps += 1
            self.step_time += seconds
            self._stepping = False

    def _unit(self) -> float:
        """CPU time of running Equal Shares at the next increment, so far."""
        if self.steps:
            return self.step_time / self.steps
        return self.run_time / self.runs if self.runs else 0.0

    def next_change(self, winners: list[int], k: int) -> int:
        """The first k' > k, at most `last`, at which Equal Shares may not fund `winners` (the
        outcome at k), or k + 1 where running Equal Shares there is cheaper than finding it.

        Exact: at every k'' between k and k' the outcome is `winners`; at k' it fails, or
        (rarely) it fails between k' - 1 and k' and holds again at k' (a run at k' then finds
        the same outcome, and the search goes on from there).
        """
        if self.running:
            self.running -= 1
            self._stepping = True
            return min(k + 1, self.last)
        began = process_time()
        sweep = Sweep(self.prep, winners)
        try:
            found = self._search(sweep, k, began)
        finally:
            self.passes += sweep.passes
            self.searches += 1
            self.search_time += process_time() - began
        self.searched += found - k
        # Searching costs its passes plus a run where it lands, per increment it covers;
        # running Equal Shares at each increment costs a run there.
        unit = self._unit()
        landing = self.run_time / self.runs if self.runs else 0.0
        if not self.runs or self.search_time + self.searches * landing <= self.searched * unit:
            self.patience = max(1, self.patience // 2)
        else:
            self.running = self.patience
            # Passes dearer than runs: searching one increment at a time cannot pay.
            dear = self.search_time > unit * self.passes
            self.patience = MAX_WAIT if dear else min(2 * self.patience, MAX_WAIT)
        return found

    def _pays(self, spared: int, seconds: float) -> bool:
        """Would `spared` runs have taken at least `seconds`?"""
        return not self.runs or spared * self._unit() >= seconds

    def _search(self, sweep: Sweep, k: int, began: float) -> int:
        start, increment, last = self.start, self.increment, self.last
        proven, ref, step = k, None, 1
        at = k  # the first pass: at k itself, whose outcome is `winners`
        while True:
            tried = at > proven + 1
            horizon = Fraction((last - at) * increment)
            found = sweep.pass_at(start + at * increment, horizon, ref if tried else None)
            if tried and not found.since:  # something may change in between: go back
                self.wait = min(2 * self.wait, MAX_WAIT)
                self.cool, step = self.wait, 1
                at = proven + 1
                continue
            if found.failed:
                steps = found.t / increment
                return min(last, at + (ceil(steps) if found.closed else floor(steps) + 1))
            if found.t >= horizon:
                return last
            ahead = floor(found.t / increment)
            proven = at + ahead
            if not self._pays(proven - k + SLACK, process_time() - began):
                return proven + 1  # not paying off so far: let runs go on from here
            ref = [v + d * (ahead * increment) for v, d in found.rhos]
            if tried:
                self.wait, step = 1, 2 * step
            elif self.cool:
                self.cool -= 1
            else:
                step = 2
            at = min(last, proven + step)
            if at <= proven:
                return last


MAX_WAIT = 64
SLACK = 2  # runs' worth of time a search may spend beyond what it has spared so far
