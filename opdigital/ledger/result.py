"""The tally's result, computed from the cycle definition (cycle.json) and the ballots.

The server computes it once when it seals the tally; the verifier computes it again from the
package's own cycle.json and board.jsonl and compares. Both run this same function, over the
pure counting rules of `opdigital.counting`, so "the result" means one thing everywhere.

Pure: standard library and `opdigital.counting` only. Every field is documented in
docs/tally-format.md.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from operator import lt
from typing import Any

from opdigital.counting.ballot_rules import RULE_KINDS
from opdigital.counting.instance import (
    CountingError,
    Instance,
    Profile,
    Project,
    approval_counts,
    profile_of,
)
from opdigital.counting.rules import RULES, count
from opdigital.ledger.chain import canonical_json, is_hex64, is_int
from opdigital.ledger.json_checks import MAX_INTEGER, FieldChecks, number_problem

FORMAT = "opdigital-tally/1"
CYCLE_KINDS = ("op-digital", "op-regional", "opca")
# The sentence of opdigital/counting/instance.py's docstring, word for word; a test keeps the two
# in step. It is fixed here rather than read from the docstring at run time because a package
# states the tie-break it was counted with: rewording a docstring must not break old packages.
TIE_BREAK = (
    "among projects a rule cannot otherwise separate, the one with MORE approvals wins, then the"
    " CHEAPER one, then the one with the LOWER id (ids made of decimal digits compare as numbers"
    " and come before other ids, which compare as text)."
)
DEFINITION_KEYS = (
    "format",
    "cycle",
    "regions",
    "budget_cents",
    "region_budgets_cents",
    "proposals",
    "ballot_rule",
    "counting_rule",
    "tie_break",
    "voting",
)
# Bounds on the numbers a definition may hold, so that no count or allocation can be made huge
# by a forged package (the counting loops are bounded by the data, and these bound the data).
# Money: R$ 100 bilhões, the app's own cap on any amount (opdigital/cycles/budget.py, whose
# MAX_AMOUNT_CENTS a test keeps equal); ids: PostgreSQL's bigint; list lengths: far above any
# city's ballot, and what board lines' length caps are derived from (package.py).
MAX_CENTS = 10**13
MAX_ID = MAX_INTEGER
MAX_PROPOSALS = 10_000
MAX_REGIONS = 10_000
# The ballot rule's parameters (opdigital/counting/ballot_rules.py) as the voting settings store
# them, with the ranges the settings screen allows (opdigital/voting/settings.py's MAX_LIMIT, a
# test keeps the two equal). Other names are allowed and carry no meaning: the app reads only
# these, and a cycle may hold others (the demo's); their values still follow section 2.
MAX_CHOICES_LIMIT = 1000
BALLOT_PARAMS = {
    "min_choices": (0, MAX_CHOICES_LIMIT),
    "max_choices": (1, MAX_CHOICES_LIMIT),
    "min_budget_share_percent": (0, 100),
    "per_region": bool,
    "own_region_only": bool,
}
# The one form of a time: what `datetime.isoformat()` writes for a UTC instant (with
# microseconds only when there are any), or with Z. ASCII digits only (\d would take others).
_UTC_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{6}))?(?:Z|\+00:00)"
)
RESULT_KEYS = (
    "ballots",
    "participation",
    "board_head",
    "votes",
    "selected",
    "allocated_cents",
    "by_region",
    "counting_rule",
)


class TallyError(ValueError):
    """The definition is malformed, or the ballots cannot be counted under it."""


_checks = FieldChecks(TallyError)
_require, _object = _checks.require, _checks.object


def _count_field(value: object, path: str, maximum: int | None = None, least: int = 0) -> int:
    _require(is_int(value) and value >= least, f"{path} must be an integer >= {least}")
    _require(
        maximum is None or value <= maximum,  # type: ignore[operator]
        f"{path} must be at most {maximum}",
    )
    return int(value)  # type: ignore[call-overload]


def _text(value: object, path: str) -> str:
    _require(isinstance(value, str), f"{path} must be a string")
    return str(value)


def _utc_instant(value: object, path: str) -> datetime:
    """A time in its one form (docs/tally-format.md, section 3): YYYY-MM-DDTHH:MM:SS, six
    digits of microseconds or none, then Z or +00:00; a date and time that exists."""
    match = _UTC_TIME.fullmatch(_text(value, path))
    instant = None
    if match is not None:
        *fields, micro = match.groups()
        try:
            instant = datetime(*map(int, fields), int(micro or 0), tzinfo=UTC)  # type: ignore[misc]
        except ValueError:
            instant = None  # month 13, February 30, second 60...
    _require(
        instant is not None,
        f"{path} must be in UTC, written YYYY-MM-DDTHH:MM:SS (ISO-8601, optionally with"
        " .ffffff, six digits) then Z or +00:00, a date and time that exists",
    )
    assert instant is not None
    return instant


def _listed(
    definition: dict[str, Any], name: str, most: int, keys: Sequence[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each item of the list `name` with its path, checked one by one as the caller reads it
    (so the first bad field is still the one named)."""
    items = definition[name]
    _require(isinstance(items, list), f"{name} must be a list")
    _require(len(items) <= most, f"{name} must have at most {most} items")
    for i, item in enumerate(items):
        path = f"{name}[{i}]"
        yield path, _object(item, path, keys)


def _check_regions(definition: dict[str, Any]) -> set[int]:
    ids: list[int] = []
    for path, region in _listed(definition, "regions", MAX_REGIONS, ("id", "slug", "name")):
        ids.append(_count_field(region["id"], f"{path}.id", MAX_ID, least=1))
        _text(region["slug"], f"{path}.slug")
        _text(region["name"], f"{path}.name")
    _checks.sorted_ids(ids, "regions")
    return set(ids)


def _check_proposals(definition: dict[str, Any], region_ids: set[int]) -> None:
    ids: list[int] = []
    keys = ("id", "code", "title", "region_id", "cost_cents")
    for path, proposal in _listed(definition, "proposals", MAX_PROPOSALS, keys):
        ids.append(_count_field(proposal["id"], f"{path}.id", MAX_ID, least=1))
        _text(proposal["code"], f"{path}.code")
        _text(proposal["title"], f"{path}.title")
        region = proposal["region_id"]
        _require(
            region is None or (is_int(region) and region in region_ids),
            f"{path}.region_id must be null or the id of a region in regions",
        )
        _count_field(proposal["cost_cents"], f"{path}.cost_cents", MAX_CENTS)
    _checks.sorted_ids(ids, "proposals")


def _check_budgets(definition: dict[str, Any], region_ids: set[int]) -> None:
    _count_field(definition["budget_cents"], "budget_cents", MAX_CENTS)
    budgets = definition["region_budgets_cents"]
    _require(isinstance(budgets, dict), "region_budgets_cents must be an object")
    for key, cents in budgets.items():
        # Keys are JSON strings: the region id in canonical decimal ("7", never "07").
        _require(
            isinstance(key, str)
            and key.isascii()
            and key.isdigit()
            and str(int(key)) == key
            and int(key) in region_ids,
            f"region_budgets_cents: key {key!r} is not the id of a region in regions",
        )
        _count_field(cents, f"region_budgets_cents[{key!r}]", MAX_CENTS)


def _check_ballot_rule(definition: dict[str, Any]) -> None:
    ballot_rule = _object(definition["ballot_rule"], "ballot_rule", ("name", "params"))
    _require(
        ballot_rule["name"] in RULE_KINDS,
        f"ballot_rule.name must be one of {', '.join(RULE_KINDS)}",
    )
    params = ballot_rule["params"]
    _require(isinstance(params, dict), "ballot_rule.params must be an object")
    for name, value in params.items():
        path = f"ballot_rule.params.{name}"
        kind = BALLOT_PARAMS.get(name)
        if kind is bool:
            _require(isinstance(value, bool), f"{path} must be a boolean")
        elif isinstance(kind, tuple):
            least, most = kind
            _require(
                is_int(value) and least <= value <= most,
                f"{path} must be an integer from {least} to {most}",
            )
        else:  # a name the app does not read: any value, its numbers as everywhere
            problem = number_problem(value, path)
            _require(problem is None, str(problem))
    low, high = params.get("min_choices"), params.get("max_choices")
    _require(
        low is None or high is None or low <= high,
        "ballot_rule.params.min_choices must not be above ballot_rule.params.max_choices",
    )


def _check_rules(definition: dict[str, Any]) -> None:
    _check_ballot_rule(definition)
    rule = _object(
        definition["counting_rule"], "counting_rule", ("name", "per_region", "increment_cents")
    )
    _require(rule["name"] in RULES, f"counting_rule.name must be one of {', '.join(RULES)}")
    _require(isinstance(rule["per_region"], bool), "counting_rule.per_region must be a boolean")
    _require(
        is_int(rule["increment_cents"]) and 0 < rule["increment_cents"] <= MAX_CENTS,
        f"counting_rule.increment_cents must be an integer from 1 to {MAX_CENTS}",
    )
    _require(
        definition["tie_break"] == TIE_BREAK,
        "tie_break is not the tie-break this format defines (see docs/tally-format.md)",
    )


def validate_definition(definition: object) -> dict[str, Any]:
    """Check cycle.json's structure and types; raises TallyError naming the first bad field."""
    definition = _object(definition, "the cycle definition", DEFINITION_KEYS)
    _require(definition["format"] == FORMAT, f"format must be {FORMAT!r}")
    cycle = _object(definition["cycle"], "cycle", ("slug", "title", "kind", "edition"))
    _require(bool(_text(cycle["slug"], "cycle.slug")), "cycle.slug must not be empty")
    _text(cycle["title"], "cycle.title")
    _require(cycle["kind"] in CYCLE_KINDS, f"cycle.kind must be one of {', '.join(CYCLE_KINDS)}")
    _count_field(cycle["edition"], "cycle.edition", MAX_ID)
    region_ids = _check_regions(definition)
    _check_budgets(definition, region_ids)
    _check_proposals(definition, region_ids)
    _check_rules(definition)
    voting = _object(definition["voting"], "voting", ("opens_at", "closes_at"))
    opens = _utc_instant(voting["opens_at"], "voting.opens_at")
    closes = _utc_instant(voting["closes_at"], "voting.closes_at")
    _require(opens < closes, "voting.opens_at must be before voting.closes_at")
    return definition


def instance_of(definition: dict[str, Any]) -> Instance:
    """The counting instance a (validated) definition describes, money in centavos."""
    return Instance(
        projects=tuple(
            Project(p["id"], p["cost_cents"], p["region_id"]) for p in definition["proposals"]
        ),
        budget=definition["budget_cents"],
        region_budgets={int(k): v for k, v in definition["region_budgets_cents"].items()},
    )


def proposal_ids(definition: dict[str, Any]) -> frozenset[int]:
    """The ids of the proposals on the ballot (build it once, not once per ballot)."""
    return frozenset(p["id"] for p in definition["proposals"])


def unknown_choice(
    definition: dict[str, Any], choices: Sequence[int], known: frozenset[int] | None = None
) -> int | None:
    """The first choice that is not a proposal on the ballot (`known`, if given), or None."""
    if known is None:
        known = proposal_ids(definition)
    return next((c for c in choices if c not in known), None)


def _by_region(definition: dict[str, Any], selected: list[int]) -> list[dict[str, Any]]:
    """Budget, money allocated and selection of the city-wide group and of each region."""
    proposals = {p["id"]: p for p in definition["proposals"]}
    groups: list[int | None] = []
    if any(p["region_id"] is None for p in definition["proposals"]):
        groups.append(None)  # the city-wide group exists only when it has proposals
    groups += [r["id"] for r in definition["regions"]]
    rows = []
    for region in groups:
        chosen = [pid for pid in selected if proposals[pid]["region_id"] == region]
        budget = (
            definition["budget_cents"]
            if region is None
            else definition["region_budgets_cents"].get(str(region), 0)
        )
        rows.append(
            {
                "region_id": region,
                "budget_cents": budget,
                "allocated_cents": sum(proposals[pid]["cost_cents"] for pid in chosen),
                "selected": chosen,
            }
        )
    return rows


def _profile(ballots: Sequence[Sequence[int]], distinct: Counter[tuple[int, ...]]) -> Profile:
    """`counting.profile_of(ballots)`, from the ballots already counted by distinct tuple.

    When every distinct ballot is a strictly ascending tuple of ints (as every ballot on a
    valid board is), distinct tuples are distinct approval sets, each already in the counting
    rules' id order (ints by value), so the profile is the tuples and their counts, in order of
    first appearance, as `profile_of` makes it (a test compares the two); anything else goes
    through `profile_of` itself.
    """
    for choices in distinct:
        if not (set(map(type, choices)) <= _INT_ONLY and all(map(lt, choices, choices[1:]))):
            return profile_of(ballots)
    return Profile(tuple(distinct), tuple(distinct.values()))


_INT_ONLY = frozenset((int,))


# What `compute_result` is a pure function of: (definition, ballots, participation, head).
CountInputs = tuple[dict[str, Any], Sequence[Sequence[int]], int, tuple[int, str]]


def same_count_inputs(counted: CountInputs, found: CountInputs) -> bool:
    """Whether `compute_result` on `found` could only repeat its result on `counted`: the same
    definition by canonical JSON (1, 1.0 and true differ), the same ballots by value (the
    chain check holds a package's to plain ints), participation and head."""
    definition, ballots, participation, head = counted
    found_definition, found_ballots, found_participation, found_head = found
    return (
        found_participation == participation
        and type(found_participation) is int
        and tuple(found_head) == tuple(head)
        and len(found_ballots) == len(ballots)
        and canonical_json(found_definition) == canonical_json(definition)
        and all(map(_same_ballot, found_ballots, ballots))
    )


def _same_ballot(a: Sequence[int], b: Sequence[int]) -> bool:
    return a is b or tuple(a) == tuple(b)


def compute_result(
    definition: dict[str, Any],
    ballots: Sequence[Sequence[int]],
    *,
    participation: int,
    head: tuple[int, str],
) -> dict[str, Any]:
    """The result dict result.json holds; raises TallyError for a bad definition or ballot.

    `participation` is the server's count of participation records (it cannot be recomputed
    from the package); `head` is the board's (seq, entry_hash) after the last ballot.
    """
    validate_definition(definition)
    _require(is_int(participation) and participation >= 0, "participation must be an int >= 0")
    head_seq, head_hash = head
    _require(is_int(head_seq) and head_seq >= 0 and is_hex64(head_hash), "malformed board head")
    known = proposal_ids(definition)
    # A million ballots are a few hundred thousand distinct ones at most: each distinct ballot
    # is checked once, and the ballots are walked one by one only to name the first bad one.
    distinct = Counter(map(tuple, ballots))
    if not all(known.issuperset(choices) for choices in distinct):
        for number, choices in enumerate(ballots, start=1):
            unknown = unknown_choice(definition, choices, known)
            _require(
                unknown is None, f"ballot {number} names {unknown}, not a proposal on the ballot"
            )
    instance = instance_of(definition)
    rule = definition["counting_rule"]
    profile = _profile(ballots, distinct)
    try:
        selected = count(
            rule["name"],
            instance,
            profile,
            per_region=rule["per_region"],
            increment=rule["increment_cents"],
        )
        approvals = approval_counts(instance, profile)
    except CountingError as e:
        raise TallyError(f"the ballots cannot be counted: {e}") from None
    costs = {p["id"]: p["cost_cents"] for p in definition["proposals"]}
    return {
        "ballots": len(ballots),
        "participation": participation,
        "board_head": {"seq": head_seq, "hash": head_hash},
        "votes": [
            {"proposal_id": p["id"], "votes": approvals[p["id"]]} for p in definition["proposals"]
        ],
        "selected": list(selected),
        "allocated_cents": sum(costs[pid] for pid in selected),
        "by_region": _by_region(definition, list(selected)),
        "counting_rule": copy.deepcopy(rule),
    }
