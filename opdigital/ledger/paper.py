"""Paper ballots in the tally package: paper.json, and the checks that tie it to the board.

Where a voting point loses power or network, voters fill printed sheets and sign the point's
paper list; staff record each one's participation (flagged "on paper", at the point) and later
enter the sheets in batches, whose ballots join the board with their batch's id
(`chain.BoardEntry.paper_batch`). paper.json states, for auditors, the sealed batches (their
point, number and sheets) and how many paper participations each point recorded, and the
verifier checks that they add up with the board (docs/tally-format.md, "Paper ballots"):

- every paper entry's batch is a declared batch;
- each batch has exactly its declared sheets on the board;
- each point's batches hold as many sheets as the point recorded paper participations;
- the online and paper ballots stated add up to the board's entries.

Pure: standard library and the other ledger modules only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opdigital.ledger.chain import BoardEntry, is_int
from opdigital.ledger.json_checks import FieldChecks
from opdigital.ledger.package import MAX_BALLOTS
from opdigital.ledger.result import MAX_ID

PAPER_KEYS = ("ballots", "batches", "voting_points")
BALLOT_KEYS = ("online", "paper")
BATCH_KEYS = ("id", "voting_point_id", "number", "sheets")
POINT_KEYS = ("id", "name", "paper_participation")
MAX_BATCHES = 1_000_000
MAX_POINTS = 100_000


class PaperError(ValueError):
    """paper.json is malformed, or does not add up with the board; the message names where."""


@dataclass(frozen=True)
class Batch:
    """A sealed paper batch as paper.json declares it."""

    id: int
    voting_point_id: int
    number: int
    sheets: int


@dataclass(frozen=True)
class Point:
    """A voting point that had paper ballots, and its paper participations."""

    id: int
    name: str
    paper_participation: int


def paper_json(
    batches: Iterable[Batch], points: Iterable[Point], ballots: int, paper: int
) -> dict[str, Any]:
    """paper.json's object for the sealed batches, the points (in any order) and the board's
    `ballots` entries, `paper` of them paper ballots."""
    return {
        "ballots": {"online": ballots - paper, "paper": paper},
        "batches": [
            {
                "id": b.id,
                "voting_point_id": b.voting_point_id,
                "number": b.number,
                "sheets": b.sheets,
            }
            for b in sorted(batches, key=lambda b: b.id)
        ],
        "voting_points": [
            {"id": p.id, "name": p.name, "paper_participation": p.paper_participation}
            for p in sorted(points, key=lambda p: p.id)
        ],
    }


_checks = FieldChecks(PaperError)
_require, _object = _checks.require, _checks.object


def _integer(value: object, path: str, least: int, most: int) -> int:
    _require(
        is_int(value) and least <= value <= most,  # type: ignore[operator]
        f"{path} must be an integer from {least} to {most}",
    )
    return int(value)  # type: ignore[call-overload]


def _list(value: object, path: str, most: int) -> list[Any]:
    _require(isinstance(value, list), f"{path} must be a list")
    assert isinstance(value, list)
    _require(len(value) <= most, f"{path} must have at most {most} items")
    return value


@dataclass(frozen=True)
class Declared:
    """paper.json, checked for form: what the server states about paper ballots."""

    online: int
    paper: int
    batches: dict[int, Batch]
    points: dict[int, Point]

    def batch_label(self, batch: Batch) -> str:
        point = self.points[batch.voting_point_id]
        return (
            f"paper batch {batch.id} (batch {batch.number} of voting point {point.id},"
            f" {point.name})"
        )


def validate_paper(paper: object) -> Declared:
    """paper.json's form (docs/tally-format.md, "Paper ballots"); PaperError names the first
    bad field. Whether it adds up with the board is `check_board`'s."""
    paper = _object(paper, "the top level", PAPER_KEYS)
    ballots = _object(paper["ballots"], "ballots", BALLOT_KEYS)
    online = _integer(ballots["online"], "ballots.online", 0, MAX_BALLOTS)
    on_paper = _integer(ballots["paper"], "ballots.paper", 0, MAX_BALLOTS)
    points: dict[int, Point] = {}
    ids: list[int] = []
    for i, item in enumerate(_list(paper["voting_points"], "voting_points", MAX_POINTS)):
        path = f"voting_points[{i}]"
        item = _object(item, path, POINT_KEYS)
        point_id = _integer(item["id"], f"{path}.id", 1, MAX_ID)
        _require(isinstance(item["name"], str), f"{path}.name must be a string")
        participation = _integer(
            item["paper_participation"], f"{path}.paper_participation", 0, MAX_BALLOTS
        )
        ids.append(point_id)
        points[point_id] = Point(point_id, item["name"], participation)
    _checks.sorted_ids(ids, "voting_points")
    batches: dict[int, Batch] = {}
    ids = []
    numbers: set[tuple[int, int]] = set()
    for i, item in enumerate(_list(paper["batches"], "batches", MAX_BATCHES)):
        path = f"batches[{i}]"
        item = _object(item, path, BATCH_KEYS)
        batch = Batch(
            id=_integer(item["id"], f"{path}.id", 1, MAX_ID),
            voting_point_id=_integer(item["voting_point_id"], f"{path}.voting_point_id", 1, MAX_ID),
            number=_integer(item["number"], f"{path}.number", 1, MAX_ID),
            sheets=_integer(item["sheets"], f"{path}.sheets", 1, MAX_BALLOTS),
        )
        _require(
            batch.voting_point_id in points,
            f"{path}.voting_point_id must be the id of a point in voting_points",
        )
        key = (batch.voting_point_id, batch.number)
        _require(key not in numbers, f"{path}: its point has another batch {batch.number}")
        numbers.add(key)
        ids.append(batch.id)
        batches[batch.id] = batch
    _checks.sorted_ids(ids, "batches")
    return Declared(online, on_paper, batches, points)


def undeclared_batch(entries: Iterable[BoardEntry], declared: Declared | None) -> str | None:
    """Check (b): the first entry whose paper batch paper.json does not declare, named."""
    for entry in entries:
        batch = entry.paper_batch
        if batch is None or (declared is not None and batch in declared.batches):
            continue
        if declared is None:
            return f"entry {entry.seq}: paper batch {batch}, but the package has no paper.json"
        return f"entry {entry.seq}: paper batch {batch} is not a batch paper.json declares"
    return None


def check_board(
    declared: Declared, entries: Iterable[BoardEntry], board_entries: int, ballots: int
) -> list[str]:
    """Checks (a), (c) and (d), given (b) holds; returns what held, one line per check, or
    raises PaperError naming the first batch, point or count that does not add up.

    `entries` need only hold the board's paper ballots (online ones are skipped), and
    `board_entries` is how many entries the board has in all."""
    on_board = Counter(e.paper_batch for e in entries if e.paper_batch is not None)
    for batch in declared.batches.values():
        found = on_board.get(batch.id, 0)
        _require(
            found == batch.sheets,
            f"{declared.batch_label(batch)}: paper.json declares {batch.sheets} sheets,"
            f" but the board has {found} ballots of this batch",
        )
    sheets: Counter[int] = Counter()
    for batch in declared.batches.values():
        sheets[batch.voting_point_id] += batch.sheets
    for point in declared.points.values():
        _require(
            sheets[point.id] == point.paper_participation,
            f"voting point {point.id} ({point.name}): {point.paper_participation} paper"
            f" participations recorded, but its batches hold {sheets[point.id]} sheets",
        )
    paper = sum(on_board.values())
    online = board_entries - paper
    _require(
        declared.paper == paper,
        f"paper.json: ballots.paper is {declared.paper}, but the board has {paper} paper ballots",
    )
    _require(
        declared.online == online,
        f"paper.json: ballots.online is {declared.online},"
        f" but the board has {online} online ballots",
    )
    _require(
        online + paper == ballots,
        f"paper.json: {online} online and {paper} paper ballots make {online + paper},"
        f" but result.json states {ballots} ballots",
    )
    return [
        f"paper batches: {len(declared.batches)} from {len(declared.points)} voting points,"
        " each with exactly its declared sheets on the board, and no paper ballot outside them",
        f"paper participations: each voting point's batches hold as many sheets as it recorded"
        f" paper participations ({paper} in all)",
        f"ballots: {online} online + {paper} on paper = {ballots}",
    ]
