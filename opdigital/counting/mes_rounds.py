"""Voters grouped by which earlier winners they approve, shared by every Equal Shares run and
every replay (`mes_sweep`) of one count.

Pure: standard library only. In Equal Shares, a voter's money before round j is
max(0, b - the prices of the earlier winners it approves), whatever the budget b: it depends
only on its "class", the bit mask of the rounds before j whose winner it approves. So the
number of a project's supporters in each class at round j (`Rounds.hist`) depends only on the
winners of the rounds before j, not on the budget per voter. Equal Shares completed runs Equal
Shares at many budgets whose outcomes mostly share their first winners (and replays each outcome
at other budgets): counting a project's supporters per class is the costly part, so it is done
once and kept while the runs and replays follow those winners (`Rounds.follow`).

Classes are counted by "key": the bit mask, over projects, of the earlier winners a voter
approves (its ballot's projects masked by the set of earlier winners). A key names the same
voters whatever order those winners won in, so the counts by key at round j depend only on the
set of the winners before j: runs whose first winners are the same in another order (Equal
Shares completed's outcomes mostly change by swapping winners) share them, and nothing per voter
changes when a winner is followed or dropped. A key becomes a class mask over rounds (what the
runs compute money with) through its id (`Rounds.ids`, made for the winners' current order).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import filterfalse, repeat
from typing import Any, Protocol


class Prepared(Protocol):
    """What this module reads of `mes_engine.Prepared` (named here, not imported: the engine
    imports this module)."""

    types: list[tuple[int, ...]]
    weights: list[int]
    supporters: list[list[int]]  # project index -> types approving it
    approvals: list[int]  # project index -> voters approving it
    rounds: Any  # this module's Rounds, once made


SLOT = 64  # bits per round in a spread mask: sums of voters stay under 2**64

# Rough costs, in nanoseconds, of counting a project's supporters by key: per type of them
# (grouped by key), per type of the shorter list walked to find those approving two projects,
# and per class of a count copied (measured on a million ballots).
_PER_TYPE = 130
_PER_WALKED = 60
_PER_CLASS = 20


class Hist:
    """A project's supporters at a round: their keys (see the module docstring), numbers of
    voters and ids (see `Rounds.ids`), and their class masks over rounds (`masks`, looked up
    when first asked: only replays use them); `order`: the classes by money in the last run
    that sorted them (runs at nearby budgets sort them almost alike, and sorting an almost
    sorted list is fast)."""

    __slots__ = ("_mask_of", "_masks", "counts", "ids", "keys", "order")

    def __init__(self, keys: list[int], counts: list[int], ids: list[int], mask_of: list[int]):
        self.keys = keys
        self.counts = counts
        self.ids = ids
        self._mask_of = mask_of  # id -> class mask (`Rounds.mask`)
        self._masks: list[int] | None = None
        self.order: list[int] | range = range(len(keys))

    @property
    def masks(self) -> list[int]:
        if self._masks is None:
            self._masks = list(map(self._mask_of.__getitem__, self.ids))
        return self._masks

    def pairs(self) -> zip:
        return zip(self.masks, self.counts, strict=True)


class Rounds:
    """The winners followed so far, and the supporters per class of the projects counted at
    each round.

    Every key met gets an id (`ids`) for the winners' current order: its class mask over rounds
    (`mask`), its last paid round (`top`) and its `parent`, the key less the winner of that
    round, so a user computes every class's money in one step per id, round by round as the
    prices become known. `spread` has each class mask's bit k moved to bit SLOT * k: summing
    them, times voters, counts how many voters paid each round in one big integer. Ids are only
    ever added (those of keys over dropped winners are simply no longer used).
    """

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self.winners: list[int] = []
        self.within = [0]  # within[j]: the key bits of the winners of the rounds before j
        self._seen = 0  # the key bits of every winner followed since the count began
        self._round_of = [-1] * len(prep.supporters)  # project -> the round it won, if followed
        self._ballot = [sum(1 << p for p in t) for t in prep.types]  # type -> its ballot's key
        # (the set of earlier winners, project) -> its supporters' Hist, in whatever order those
        # winners came; `_stale`: those over winners dropped at the last change (see `_cut`).
        self._counted: dict[tuple[int, int], Hist] = {}
        self._stale: dict[tuple[int, int], Hist] = {}
        self._finest: dict[int, tuple[int, dict[int, int]]] = {}  # project -> its finest count
        self._hists: dict[tuple[int, int], Hist] = {}  # (round, project), current order
        self._members: dict[int, bytearray] = {}
        self.ids: dict[int, int] = {0: 0}
        self.parent: list[int] = [0]
        self.top: list[int] = [-1]
        self.mask: list[int] = [0]
        self.spread: list[int] = [0]
        self.by_top: list[list[int]] = []  # round -> ids of the classes whose top bit it is
        # A replay's float lines (values, slopes) by id, kept for the next replay (`mes_sweep`).
        self.sweep_lines: tuple[list[float], list[float]] | None = None

    def follow(self, j: int, winner: int) -> None:
        """Round j's winner is `winner` (the rounds before j being those followed so far)."""
        if j < len(self.winners):
            if self.winners[j] == winner:
                return
            self._cut(j)
        if j != len(self.winners):
            raise AssertionError("rounds must be followed in order")
        self.winners.append(winner)
        self._round_of[winner] = j
        self.within.append(self.within[j] | 1 << winner)
        self._seen |= 1 << winner
        self.by_top.append([])

    def follow_all(self, winners: list[int]) -> None:
        for j, winner in enumerate(winners):
            self.follow(j, winner)

    def _cut(self, j: int) -> None:
        """Forget the winners from round j on."""
        for w in self.winners[j:]:
            self._round_of[w] = -1
        del self.winners[j:]
        del self.within[j + 1 :]
        del self.by_top[j:]
        kept = self.within[j]
        self._hists = {key: h for key, h in self._hists.items() if key[0] <= j}
        self.ids = {k: n for k, n in self.ids.items() if not k & ~kept}
        # Counts over the dropped winners are kept until the next change, in case the next
        # winners are the same in another order.
        counted, stale = {}, {}
        for key, h in self._counted.items():
            (stale if key[0] & ~kept else counted)[key] = h
        self._counted, self._stale = counted, stale

    def hist(self, j: int, i: int) -> Hist:
        """Project i's supporters at round j, by class (rounds before j must be followed)."""
        found = self._hists.get((j, i))
        if found is None:
            key = (self.within[j], i)
            known = self._known(key)
            if known is not None:
                keys, counts = known.keys, known.counts
            else:
                merged = self._count(j, i)
                keys, counts = list(merged), list(merged.values())
            # Ids for the keys met for the first time (a key's parent may be one of them, made
            # with it: the check is made key by key), then every id, all at C level.
            for k in filterfalse(self.ids.__contains__, keys):
                self._new_id(k)
            ids = list(map(self.ids.__getitem__, keys))
            found = Hist(keys, counts, ids, self.mask)
            if known is not None:
                found.order = known.order
            self._hists[(j, i)] = self._counted[key] = found
        return found

    def _known(self, key: tuple[int, int]) -> Hist | None:
        found = self._counted.get(key)
        if found is None:
            found = self._stale.pop(key, None)
            if found is not None:
                self._counted[key] = found
        return found

    def _count(self, j: int, i: int) -> dict[int, int]:
        """Project i's supporters by key at round j (not to be changed: it may be kept as the
        finest count), merged from its finest count: over every winner met so far, as runs
        mostly fund the same projects (in another order, or some of them). Merging it costs a
        step per class; counting it again a step per type of the project's supporters, several
        times as many; a winner met since is added to it (`_refine`) when that is cheaper."""
        if not j:
            voters = self.prep.approvals[i]
            return {0: voters} if voters else {}
        within = self.within[j]
        finest = self._finest.get(i)
        if finest is None or within & ~finest[0]:
            finest = self._finest[i] = (self._seen, self._finest_count(i, finest))
        return finest[1] if within == finest[0] else _merged(finest[1].items(), within)

    def _finest_count(self, i: int, old: tuple[int, dict[int, int]] | None) -> dict[int, int]:
        """Project i's supporters by key over every winner met so far, from its `old` finest
        count if adding the winners met since costs less than counting again."""
        supporters, weights = self.prep.supporters, self.prep.weights
        if old is not None:
            new = self._seen & ~old[0]
            added = [p for p in range(new.bit_length()) if new >> p & 1]
            walk = sum(min(len(supporters[i]), len(supporters[p])) for p in added)
            if _PER_WALKED * walk + _PER_CLASS * len(old[1]) < _PER_TYPE * len(supporters[i]):
                counts, within = dict(old[1]), old[0]
                for p in added:
                    self._refine(counts, within, p, i)
                    within |= 1 << p
                return counts
        by_type = zip(
            map(self._ballot.__getitem__, supporters[i]),
            map(weights.__getitem__, supporters[i]),
            strict=True,
        )
        return _merged(by_type, self._seen)

    def _refine(self, counts: dict[int, int], within: int, p: int, i: int) -> None:
        """Project i's supporters by key over `within`, in place, made over `within` and
        project p: those who approve p move from key k to k + p's bit (counted over the types
        approving both, found through the shorter of the two projects' lists)."""
        supporters = self.prep.supporters
        small, other = supporters[i], p
        if len(supporters[p]) < len(small):
            small, other = supporters[p], i
        both = list(filter(self._member(other).__getitem__, small))
        moved = _merged(
            zip(
                map(self._ballot.__getitem__, both),
                map(self.prep.weights.__getitem__, both),
                strict=True,
            ),
            within,
        )
        bit = 1 << p
        for k, n in moved.items():
            rest = counts[k] - n
            if rest:
                counts[k] = rest
            else:
                del counts[k]
            counts[k | bit] = n

    def _member(self, p: int) -> bytearray:
        """Type t approves project p exactly when this array's byte t is 1."""
        found = self._members.get(p)
        if found is None:
            found = self._members[p] = bytearray(len(self.prep.types))
            deque(map(found.__setitem__, self.prep.supporters[p], repeat(1)), maxlen=0)
        return found

    def _new_id(self, key: int) -> int:
        top, rest = -1, key
        while rest:
            bit = rest & -rest
            top = max(top, self._round_of[bit.bit_length() - 1])
            rest ^= bit
        lower = key ^ (1 << self.winners[top])
        parent = self.ids.get(lower)
        if parent is None:
            parent = self._new_id(lower)
        n = self.ids[key] = len(self.parent)
        self.parent.append(parent)
        self.top.append(top)
        self.mask.append(self.mask[parent] | 1 << top)
        self.spread.append(self.spread[parent] | 1 << (SLOT * top))
        self.by_top[top].append(n)
        return n


def _merged(counts: Iterable[tuple[int, int]], within: int) -> dict[int, int]:
    """Numbers of voters by key, merged into keys over the winners `within` only."""
    merged: dict[int, int] = {}
    get = merged.get
    for k, n in counts:
        k &= within
        merged[k] = get(k, 0) + n
    return merged


def rounds_of(prep: Prepared) -> Rounds:
    """The count's shared `Rounds` (kept with the prepared ballots)."""
    if prep.rounds is None:
        prep.rounds = Rounds(prep)
    return prep.rounds
