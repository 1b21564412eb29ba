"""Voters grouped by which earlier winners they approve, shared by every Equal Shares run and
every replay (`mes_sweep`) of one count.

Pure: standard library only. In Equal Shares, a voter's money before round j is
max(0, b - the prices of the earlier winners it approves), whatever the budget b: it depends
only on its "class", the bit mask of the rounds before j whose winner it approves. So the
number of a project's supporters in each class at round j (`Rounds.hist`) depends only on the
winners of the rounds before j, not on the budget per voter. Equal Shares completed runs Equal
Shares at many budgets whose outcomes mostly share their first winners (and replays each outcome
at other budgets): counting a project's supporters per class is the costly part (one element
per voter), so it is done once per sequence of earlier winners, here, and kept while the runs
and replays follow that sequence (`Rounds.follow`).
"""

from __future__ import annotations

from collections import Counter, deque
from itertools import repeat
from typing import Any, Protocol


class Prepared(Protocol):
    """What this module reads of `mes_engine.Prepared` (named here, not imported: the engine
    imports this module)."""

    types: list[tuple[int, ...]]
    supporters: list[list[int]]  # project index -> types approving it
    expanded: list[list[int]]  # the same, each type repeated by its weight
    rounds: Any  # this module's Rounds, once made


SLOT = 64  # bits per round in a spread mask: sums of voters stay under 2**64


class Hist:
    """A project's supporters at a round: class masks, their numbers of voters, and their ids
    (see `Rounds.ids`); `order`: the classes by money in the last run that sorted them (runs at
    nearby budgets sort them almost alike, and sorting an almost sorted list is fast)."""

    __slots__ = ("counts", "ids", "masks", "order")

    def __init__(self, masks: list[int], counts: list[int], ids: list[int]) -> None:
        self.masks = masks
        self.counts = counts
        self.ids = ids
        self.order: list[int] | range = range(len(masks))

    def pairs(self) -> zip:
        return zip(self.masks, self.counts, strict=True)


class Rounds:
    """The winners followed so far, each type's class mask over them, and the supporters per
    class of the projects counted at each round.

    Every class mask met gets an id (`ids`); its `parent` is the mask less its top bit (`top`,
    its last paid round), so a user computes every class's money in one step per id, round by
    round as the prices become known. `spread` has each mask's bit k moved to bit SLOT * k:
    summing them, times voters, counts how many voters paid each round in one big integer.
    Ids are only ever added (those of masks over abandoned winners are simply no longer used).
    """

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self.winners: list[int] = []
        self.mask = [0] * len(prep.types)  # bit j: the type approves the winner of round j
        self._hists: dict[tuple[int, int], Hist] = {}
        self._full: dict[int, Counter] = {}
        self._members: dict[int, bytearray] = {}
        self._before: tuple[list[int], dict[tuple[int, int], Hist]] | None = None
        self.ids: dict[int, int] = {0: 0}
        self.parent: list[int] = [0]
        self.top: list[int] = [-1]
        self.spread: list[int] = [0]
        self.by_top: list[list[int]] = []  # round -> ids of the masks whose top bit it is
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
        bit, supporters, mask = 1 << j, self.prep.supporters[winner], self.mask
        # C-speed: mask[t] |= bit for every type approving the winner.
        olds = map(mask.__getitem__, supporters)
        deque(map(mask.__setitem__, supporters, list(map(bit.__or__, olds))), maxlen=0)
        self.winners.append(winner)
        self.by_top.append([])
        self._full.clear()

    def follow_all(self, winners: list[int]) -> None:
        for j, winner in enumerate(winners):
            self.follow(j, winner)

    def _cut(self, j: int) -> None:
        """Forget the winners from round j on."""
        low = (1 << j) - 1
        # The classes counted over the rounds dropped, in case the next winners are the same
        # in another order (see `_moved`).
        dropped = {key: h for key, h in self._hists.items() if key[0] > j}
        if dropped:
            self._before = (self.winners[:], dropped)
        del self.winners[j:]
        del self.by_top[j:]
        self.mask = list(map(low.__and__, self.mask))
        self._hists = {key: h for key, h in self._hists.items() if key[0] <= j}
        self.ids = {m: n for m, n in self.ids.items() if not m >> j}
        self._full.clear()

    def hist(self, j: int, i: int) -> Hist:
        """Project i's supporters at round j, by class (rounds before j must be followed)."""
        found = self._hists.get((j, i))
        if found is None:
            order = None
            moved = self._moved(j, i)
            if moved is not None:
                masks, counts, order = moved
            else:
                merged = self._count(j, i)
                masks, counts = list(merged), list(merged.values())
            ids = [self.ids[m] if m in self.ids else self._new_id(m) for m in masks]
            found = self._hists[(j, i)] = Hist(masks, counts, ids)
            if order is not None:
                found.order = order
        return found

    def _moved(self, j: int, i: int) -> tuple[list[int], list[int], list[int] | range] | None:
        """Project i's supporters by class at round j, from those counted before the last change
        of winners when the rounds before j had the same winners in another order (Equal Shares
        completed's outcomes mostly change by swapping winners): each class is the same voters,
        its rounds renumbered."""
        if self._before is None:
            return None
        winners, hists = self._before
        known = hists.get((j, i))
        if known is None or sorted(winners[:j]) != sorted(self.winners[:j]):
            return None
        position = {p: k for k, p in enumerate(self.winners[:j])}
        moves = [(k, position[p]) for k, p in enumerate(winners[:j]) if position[p] != k]
        # Renumbering costs a step per move per class; counting, a few per voter (small
        # votes, with about as many classes as voters, count faster).
        if len(known.masks) * (2 + len(moves)) > 2 * len(self.prep.expanded[i]):
            return None
        keep = (1 << j) - 1
        for k, _ in moves:
            keep &= ~(1 << k)
        masks = []
        for m in known.masks:
            renumbered = m & keep
            for k, to in moves:
                if m >> k & 1:
                    renumbered |= 1 << to
            masks.append(renumbered)
        return masks, known.counts, known.order

    def _count(self, j: int, i: int) -> dict[int, int]:
        """Project i's supporters by class at round j, the cheapest way: from its classes at an
        earlier round (`_step`) or by counting every supporter (rough costs in nanoseconds per
        element, measured on large votes)."""
        expanded = self.prep.expanded
        voters = expanded[i]
        if not j:
            return {0: len(voters)} if voters else {}
        full = self._full.get(i)
        if full is not None:
            count = 160 * len(full)
        else:
            count = 175 * len(voters)
            if j < len(self.winners):
                count += 160 * len(self.prep.supporters[i]) // 2
        # The nearest earlier round whose classes are known, if stepping from it is cheaper.
        cost, start, merged = 0, 0, None
        for k in range(j - 1, -1, -1):
            cost += 100 * min(len(voters), len(expanded[self.winners[k]]))
            if cost >= count:
                break
            known = self._hists.get((k, i))
            if known is not None:
                if cost + 60 * len(known.masks) < count:
                    start, merged = k, dict(zip(known.masks, known.counts, strict=True))
                break
            if not k:
                merged = {0: len(voters)}
        if merged is not None:
            for k in range(start, j):
                self._step(merged, k, i)
            return merged
        if full is None:
            # Every supporter's class over all the winners followed (a C-level count), merged
            # per round below: cheaper than cutting each voter's mask to the round.
            full = self._full[i] = Counter(map(self.mask.__getitem__, voters))
        if j >= len(self.winners):
            return full
        low = (1 << j) - 1
        merged = {}
        for m, n in full.items():
            merged[m & low] = merged.get(m & low, 0) + n
        return merged

    def _step(self, merged: dict[int, int], k: int, i: int) -> None:
        """Project i's supporters by class at round k + 1 from those at round k (`merged`, in
        place): those who also approve round k's winner move from class m to m + bit k (counted
        over the voters who approve both, through the shorter of the two projects' lists)."""
        expanded, w = self.prep.expanded, self.winners[k]
        small, other = expanded[i], w
        if len(expanded[w]) < len(small):
            small, other = expanded[w], i
        both = filter(self._member(other).__getitem__, small)
        low, bit = (1 << k) - 1, 1 << k
        for m, n in Counter(map(low.__and__, map(self.mask.__getitem__, both))).items():
            rest = merged[m] - n
            if rest:
                merged[m] = rest
            else:
                del merged[m]
            merged[m | bit] = n

    def _member(self, p: int) -> bytearray:
        """Type t approves project p exactly when this array's byte t is 1."""
        found = self._members.get(p)
        if found is None:
            found = self._members[p] = bytearray(len(self.prep.types))
            deque(map(found.__setitem__, self.prep.supporters[p], repeat(1)), maxlen=0)
        return found

    def _new_id(self, m: int) -> int:
        top = m.bit_length() - 1
        parent = self.ids.get(m ^ (1 << top))
        if parent is None:
            parent = self._new_id(m ^ (1 << top))
        n = self.ids[m] = len(self.parent)
        self.parent.append(parent)
        self.top.append(top)
        self.spread.append(self.spread[parent] | 1 << (SLOT * top))
        self.by_top[top].append(n)
        return n


def rounds_of(prep: Prepared) -> Rounds:
    """The count's shared `Rounds` (kept with the prepared ballots)."""
    if prep.rounds is None:
        prep.rounds = Rounds(prep)
    return prep.rounds
