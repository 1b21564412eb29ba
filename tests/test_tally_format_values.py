"""The values inside a tally package's JSON files, as docs/tally-format.md states them (issue 17,
gaps 1, 2, 3, 7, 10, 11 and 12): for each rule, a crafted package accepted where the page allows
it and refused, with the documented message and exit status 1, where it does not.

Refused packages are re-signed with their own key (`rezip(files, key)`: a key holder's forgery),
so that the refusal is the rule's and not the signature's.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.counting.ballot_rules import RULE_KINDS
from opdigital.ledger import package
from opdigital.ledger.chain import GENESIS_HASH, extend
from opdigital.ledger.result import (
    BALLOT_PARAMS,
    MAX_CHOICES_LIMIT,
    TallyError,
    validate_definition,
)
from opdigital.voting import settings as voting_settings
from opdigital.voting.receipts import normalise_receipt, receipt_hash
from tests.support.ledger import (
    BALLOTS,
    failure,
    make_board,
    make_definition,
    make_package,
    make_result,
    receipt,
    rezip,
    unzip,
)
from tests.test_ledger_paper import paper_package, with_paper

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "tally-format.md").read_text(encoding="utf-8")
MAX = 2**63 - 1
OUT_OF_RANGE = f"must be an integer from 0 to {MAX}"


def signed(definition: dict, ballots=BALLOTS) -> bytes:
    """A valid package for `definition`: its board, its recount, signed."""
    entries = make_board(ballots)
    result = make_result(definition, entries)
    return package.build_package(definition, entries, result, Ed25519PrivateKey.generate())


def forged_cycle(change) -> bytes:
    """The synthetic package with cycle.json changed by `change` (a dict edit), re-signed."""
    data, key = make_package()
    files = unzip(data)
    definition = json.loads(files["cycle.json"])
    change(definition)
    return rezip(files | {"cycle.json": package.human_json(definition)}, key)


def forged_bytes(member: str, old: bytes, new: bytes) -> bytes:
    """The synthetic package with `old` replaced by `new` once in `member`'s bytes, re-signed."""
    data, key = make_package()
    files = unzip(data)
    assert files[member].count(old) == 1, (member, old)
    return rezip(files | {member: files[member].replace(old, new)}, key)


def assert_refused(verify, data: bytes, message: str) -> None:
    code, output = verify(data)
    assert code == 1, output
    assert failure(output) == message


def assert_accepted(verify, data: bytes) -> None:
    code, output = verify(data)
    assert code == 0, output
    assert output.strip().splitlines()[-1].startswith("verified: ")


def page_text() -> str:
    """The page with its line breaks undone, to find a sentence wrapped over two lines."""
    return re.sub(r"\s*\n\s*", " ", PAGE)


# --- gap 1: numbers ----------------------------------------------------------------------------


def test_ids_and_numbers_up_to_2_63_minus_1_are_accepted(verify):
    definition = make_definition()
    definition["cycle"]["edition"] = MAX
    definition["proposals"][-1]["id"] = MAX  # 40 -> the largest id there is (19 digits)
    definition["ballot_rule"]["params"]["weight"] = [MAX, 0, {"deep": [1, True, None, "x"]}]
    ballots = [[MAX if c == 40 else c for c in b] for b in BALLOTS]
    assert_accepted(verify, signed(definition, ballots))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["cycle"].update(edition=2**63),
            f"cycle.json: cycle.edition must be at most {MAX}",
        ),
        (
            lambda d: d.update(budget_cents=100000.0),
            "cycle.json: budget_cents must be an integer >= 0",
        ),
        (lambda d: d.update(budget_cents=True), "cycle.json: budget_cents must be an integer >= 0"),
        (
            lambda d: d["ballot_rule"]["params"].update(weight=1.5),
            f"cycle.json: ballot_rule.params.weight {OUT_OF_RANGE}",
        ),
        (
            lambda d: d["ballot_rule"]["params"].update(weight=[0, {"x": -1}]),
            f"cycle.json: ballot_rule.params.weight[1].x {OUT_OF_RANGE}",
        ),
        (
            lambda d: d["ballot_rule"]["params"].update(weight={"x": 2**70}),
            f"cycle.json: ballot_rule.params.weight.x {OUT_OF_RANGE}",
        ),
        (
            lambda d: d["ballot_rule"]["params"].update(weight=10**30),
            f"cycle.json: ballot_rule.params.weight {OUT_OF_RANGE}",
        ),
    ],
)
def test_a_number_out_of_range_or_not_an_integer_in_cycle_json_is_refused(verify, change, message):
    assert_refused(verify, forged_cycle(change), message)


def test_the_pages_examples_of_refused_values_are_the_verifiers_messages(verify):
    # Sections 2 and 3 quote these messages; each is what the verifier prints for its case.
    cases = [
        forged_cycle(lambda d: d["ballot_rule"]["params"].update(weight=1.5)),
        forged_bytes("cycle.json", b'"edition": 7', b'"edition": -0'),
        forged_cycle(lambda d: d["proposals"][0].update(id=0)),
        forged_cycle(lambda d: d["ballot_rule"]["params"].update(max_choices=0)),
        forged_cycle(lambda d: d["ballot_rule"]["params"].update(per_region="yes")),
        forged_cycle(lambda d: d["ballot_rule"].update(name="ranked")),
        forged_cycle(lambda d: d["voting"].update(opens_at="2025-05-01 12:00:00Z")),
        forged_bytes(
            "cycle.json", b'"budget_cents": 100000', b'"budget_cents": 1, "budget_cents": 1'
        ),
    ]
    for data in cases:
        code, output = verify(data)
        assert code == 1
        assert failure(output) in page_text()


def test_a_byte_order_mark_is_refused(verify):
    data, key = make_package()
    files = unzip(data)
    forged = rezip(files | {"cycle.json": b"\xef\xbb\xbf" + files["cycle.json"]}, key)
    code, output = verify(forged)
    assert code == 1
    assert failure(output).startswith("cycle.json is not valid JSON: Unexpected UTF-8 BOM")


@pytest.mark.parametrize(
    ("member", "old", "new", "message"),
    [
        (
            "cycle.json",
            b'"edition": 7',
            b'"edition": -0',
            f"cycle.json: the number -0 has a sign (every number in a tally package is an"
            f" integer from 0 to {MAX})",
        ),
        (
            "result.json",
            b'"participation": 12',
            b'"participation": 1e400',
            f"result.json: the number 1e400 is not an integer (every number in a tally package is"
            f" an integer from 0 to {MAX})",
        ),
        (
            "result.json",
            b'"participation": 12',
            b'"participation": 12.0',
            "result.json: participation is 12.0, but there are 12 ballots: participation records"
            " and ballots must agree",
        ),
        (
            "result.json",
            b'"participation": 12',
            b'"participation": 1.2e1',
            "result.json: participation is 12.0, but there are 12 ballots: participation records"
            " and ballots must agree",
        ),
        (
            "result.json",
            b'"participation": 12',
            b'"participation": 12, "participation": 12',
            "result.json is not valid JSON: the key 'participation' appears twice in one object",
        ),
        (
            "cycle.json",
            b'"edition": 7',
            b'"edition": 7, "edition": 7',
            "cycle.json is not valid JSON: the key 'edition' appears twice in one object",
        ),
        (
            "cycle.json",
            b'"edition": 7',
            b'"edition": NaN',
            "cycle.json is not valid JSON: NaN is not a JSON number",
        ),
        (
            "cycle.json",
            b'"edition": 7',
            b'"edition": -Infinity',
            "cycle.json is not valid JSON: -Infinity is not a JSON number",
        ),
    ],
)
def test_floats_minus_zero_huge_numbers_and_repeated_keys_are_refused(
    verify, member, old, new, message
):
    assert_refused(verify, forged_bytes(member, old, new), message)


@pytest.mark.parametrize("value", [2**63, 10**30])
def test_a_board_number_above_2_63_minus_1_is_refused_as_the_line_is_read(verify, value):
    data, key = make_package()
    files = unzip(data)
    # A key holder's board whose third ballot names a number no 64-bit reader holds: the chain
    # is consistent (each hash recomputed), the line canonical; the number alone is refused.
    ballots = [list(b) for b in BALLOTS]
    ballots[2] = [value]
    entries = extend(
        "op-regional-2025", 0, GENESIS_HASH, [(receipt(i), b) for i, b in enumerate(ballots, 1)]
    )
    forged = rezip(files | {"board.jsonl": package.board_bytes(entries)}, key)
    message = f"board.jsonl line 3: choices holds {value}, not an integer from 0 to {MAX}"
    assert_refused(verify, forged, message)
    assert value != 2**63 or message in page_text()  # the example section 2 gives


def test_paper_json_numbers_are_integers_in_their_ranges(verify):
    data, key = paper_package()
    files = unzip(data)
    floats = with_paper(files, lambda p: p["batches"][0].update(sheets=2.0))
    assert_refused(
        verify,
        rezip(floats, key),
        "paper.json: batches[0].sheets must be an integer from 1 to 10000000",
    )
    point_zero = with_paper(files, lambda p: p["voting_points"][0].update(id=0))
    assert_refused(
        verify,
        rezip(point_zero, key),
        f"paper.json: voting_points[0].id must be an integer from 1 to {MAX}",
    )


# --- gap 2: counting_rule's three fields -------------------------------------------------------


@pytest.mark.parametrize("rule", ["plurality-per-region", "greedy", "mes", "mes-completed"])
@pytest.mark.parametrize(("per_region", "increment"), [(False, 100), (True, 1)])
def test_every_rule_carries_all_three_fields_and_ignores_those_it_does_not_read(
    verify, rule, per_region, increment
):
    definition = make_definition(rule, per_region=per_region)
    definition["counting_rule"]["increment_cents"] = increment
    assert_accepted(verify, signed(definition))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r.pop("increment_cents"),
            "cycle.json: counting_rule lacks the field increment_cents",
        ),
        (lambda r: r.pop("per_region"), "cycle.json: counting_rule lacks the field per_region"),
        (
            lambda r: r.update(per_region="no"),
            "cycle.json: counting_rule.per_region must be a boolean",
        ),
        (
            lambda r: r.update(increment_cents=0),
            "cycle.json: counting_rule.increment_cents must be an integer from 1 to 10000000000000",
        ),
        (
            lambda r: r.update(extra=1),
            "cycle.json: counting_rule has an unexpected field extra",
        ),
    ],
)
@pytest.mark.parametrize("rule", ["plurality-per-region", "mes"])
def test_a_counting_rule_field_missing_or_wrong_is_refused_whatever_the_rule(
    verify, rule, change, message
):
    def edit(definition):
        definition["counting_rule"]["name"] = rule
        change(definition["counting_rule"])

    assert_refused(verify, forged_cycle(edit), message)


# --- gap 3: times --------------------------------------------------------------------------------


def _iso_utc(moment: datetime) -> str:
    """What the tally writes (opdigital/tally/services.py's `_iso_utc`)."""
    return moment.astimezone(UTC).isoformat()


BRASILIA = timezone(timedelta(hours=-3))


@pytest.mark.parametrize(
    ("opens", "closes"),
    [
        ("2025-05-01T12:00:00Z", "2025-05-15T03:00:00+00:00"),
        ("2025-05-01T12:00:00.000001Z", "2025-05-15T03:00:00.999999+00:00"),
        (
            _iso_utc(datetime(2025, 5, 1, 9, 0, tzinfo=BRASILIA)),
            _iso_utc(datetime(2025, 5, 14, 23, 59, 59, 123456, tzinfo=BRASILIA)),
        ),
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999+00:00"),
        ("2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"),
    ],
)
def test_times_in_the_one_form_are_accepted(verify, opens, closes):
    definition = make_definition()
    definition["voting"] = {"opens_at": opens, "closes_at": closes}
    assert_accepted(verify, signed(definition))


TIME_MESSAGE = (
    "cycle.json: voting.opens_at must be in UTC, written YYYY-MM-DDTHH:MM:SS (ISO-8601,"
    " optionally with .ffffff, six digits) then Z or +00:00, a date and time that exists"
)


@pytest.mark.parametrize(
    "opens",
    [
        "2025-05-01 12:00:00Z",  # space for T
        "2025-05-01t12:00:00Z",
        "2025-05-01T12:00:00z",
        "2025-05-01T12:00:00+0000",
        "2025-05-01T12:00:00+00",
        "2025-05-01T12:00:00-00:00",
        "2025-05-01T09:00:00-03:00",
        "2025-05-01T12:00:00",  # no offset
        "20250501T120000Z",  # basic form
        "2025-W18-4T12:00:00Z",  # week date
        "2025-121T12:00:00Z",  # ordinal date
        "2025-05-01T12Z",  # hour only
        "2025-05-01T12:00Z",
        "2025-05-01",
        "2025-05-01T12:00:00.5Z",  # a fraction of another length
        "2025-05-01T12:00:00.123Z",
        "2025-05-01T12:00:00,000000Z",
        "2025-05-01T24:00:00Z",
        "2025-05-01T12:00:60Z",  # leap second
        "2025-02-29T12:00:00Z",  # not a leap year
        "2025-13-01T12:00:00Z",
        "0000-01-01T00:00:00Z",
        "+2025-05-01T12:00:00Z",
        "２０２５-05-01T12:00:00Z",  # digits, but not ASCII ones
        "2025-05-01T12:00:00Z\n",
        " 2025-05-01T12:00:00Z",
        "tomorrow",
    ],
)
def test_every_other_way_of_writing_a_time_is_refused(verify, opens):
    forged = forged_cycle(lambda d: d["voting"].update(opens_at=opens))
    assert_refused(verify, forged, TIME_MESSAGE)


def test_a_time_that_is_not_a_string_or_after_closing_is_refused(verify):
    assert_refused(
        verify,
        forged_cycle(lambda d: d["voting"].update(opens_at=1746100800)),
        "cycle.json: voting.opens_at must be a string",
    )
    assert_refused(
        verify,
        forged_cycle(lambda d: d["voting"].update(opens_at="2025-05-15T03:00:00Z")),
        "cycle.json: voting.opens_at must be before voting.closes_at",
    )


def test_the_page_gives_the_time_grammar_and_its_message():
    text = page_text()
    assert TIME_MESSAGE.removeprefix("cycle.json: ") in text
    assert r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?(Z|\+00:00)" in PAGE


# --- gap 7: ids start at 1 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["regions"][0].update(id=0),
            "cycle.json: regions[0].id must be an integer >= 1",
        ),
        (
            lambda d: d["proposals"][0].update(id=0),
            "cycle.json: proposals[0].id must be an integer >= 1",
        ),
        (
            lambda d: d["proposals"][0].update(id=-10),
            "cycle.json: proposals[0].id must be an integer >= 1",
        ),
    ],
)
def test_an_id_of_0_is_refused(verify, change, message):
    assert_refused(verify, forged_cycle(change), message)


def test_an_id_of_1_is_accepted(verify):
    definition = make_definition()
    definition["proposals"][0]["id"] = 1  # 10 -> 1, still the smallest
    ballots = [[1 if c == 10 else c for c in b] for b in BALLOTS]
    assert_accepted(verify, signed(definition, ballots))


def test_a_choice_of_0_is_not_a_proposal(verify):
    data, key = make_package()
    files = unzip(data)
    ballots = [list(b) for b in BALLOTS]
    ballots[0] = [0, *ballots[0]]
    entries = make_board(ballots)
    forged = rezip(files | {"board.jsonl": package.board_bytes(entries)}, key)
    assert_refused(verify, forged, "entry 1: choice 0 is not on the ballot")


# --- gap 10: ballot rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("one-per-region", {}),
        ("one-per-region", {"min_choices": 0, "max_choices": 2, "own_region_only": True}),
        ("one-city-wide", {}),
        ("approval", {"min_choices": 2, "max_choices": 3}),
        ("approval", {"min_choices": 1, "max_choices": 1, "per_region": True}),
        ("approval", {"max_choices": 1000, "per_region": False, "own_region_only": False}),
        ("knapsack", {"min_budget_share_percent": 0}),
        ("knapsack", {"min_budget_share_percent": 100, "per_region": True, "min_choices": 0}),
        # Parameters a rule does not read, and names the app does not know, mean nothing.
        ("one-city-wide", {"max_choices": 3, "min_budget_share_percent": 50}),
        ("one-per-region", {"max_choices_per_region": 1}),  # the demo's
        ("approval", {"note": "frozen 2025-04-30", "weights": {"a": [1, 2]}, "flag": None}),
    ],
)
def test_every_rule_name_with_well_formed_params_is_accepted(verify, name, params):
    definition = make_definition()
    definition["ballot_rule"] = {"name": name, "params": params}
    assert_accepted(verify, signed(definition))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"name": "ranked", "params": {}},
            "ballot_rule.name must be one of one-per-region, one-city-wide, approval, knapsack",
        ),
        (
            {"name": "Approval", "params": {}},
            "ballot_rule.name must be one of one-per-region, one-city-wide, approval, knapsack",
        ),
        ({"name": "approval", "params": []}, "ballot_rule.params must be an object"),
        ({"name": "approval"}, "ballot_rule lacks the field params"),
        (
            {"name": "approval", "params": {}, "version": 1},
            "ballot_rule has an unexpected field version",
        ),
        (
            {"name": "approval", "params": {"max_choices": 0}},
            "ballot_rule.params.max_choices must be an integer from 1 to 1000",
        ),
        (
            {"name": "approval", "params": {"max_choices": 1001}},
            "ballot_rule.params.max_choices must be an integer from 1 to 1000",
        ),
        (
            {"name": "approval", "params": {"max_choices": "3"}},
            "ballot_rule.params.max_choices must be an integer from 1 to 1000",
        ),
        (
            {"name": "approval", "params": {"min_choices": -1}},
            "ballot_rule.params.min_choices must be an integer from 0 to 1000",
        ),
        (
            {"name": "approval", "params": {"min_choices": True}},
            "ballot_rule.params.min_choices must be an integer from 0 to 1000",
        ),
        (
            {"name": "approval", "params": {"min_choices": 4, "max_choices": 3}},
            "ballot_rule.params.min_choices must not be above ballot_rule.params.max_choices",
        ),
        (
            {"name": "knapsack", "params": {"min_budget_share_percent": 101}},
            "ballot_rule.params.min_budget_share_percent must be an integer from 0 to 100",
        ),
        (
            {"name": "approval", "params": {"per_region": 1}},
            "ballot_rule.params.per_region must be a boolean",
        ),
        (
            {"name": "approval", "params": {"own_region_only": "true"}},
            "ballot_rule.params.own_region_only must be a boolean",
        ),
        (
            # a parameter the rule does not read is still checked for its form
            {"name": "one-city-wide", "params": {"max_choices": 0}},
            "ballot_rule.params.max_choices must be an integer from 1 to 1000",
        ),
    ],
)
def test_an_unknown_rule_or_a_malformed_parameter_is_refused(verify, rule, message):
    assert_refused(
        verify, forged_cycle(lambda d: d.update(ballot_rule=rule)), f"cycle.json: {message}"
    )


def test_the_page_defines_every_rule_and_parameter_the_code_knows():
    text = page_text()
    for name in RULE_KINDS:
        assert f"- `{name}`:" in PAGE, name
    table = re.findall(r"^\| `([a-z_]+)` \| (?:integer|boolean)", PAGE, flags=re.MULTILINE)
    assert set(BALLOT_PARAMS) <= set(table)
    for name, kind in BALLOT_PARAMS.items():
        if isinstance(kind, tuple):
            low, high = kind
            assert f"| `{name}` | integer, {low} to {high:,} |" in PAGE, name
        else:
            assert f"| `{name}` | boolean |" in PAGE, name
    assert (
        "ballot_rule.name must be one of one-per-region, one-city-wide, approval, knapsack" in text
    )


def test_the_parameters_are_those_the_voting_settings_store_within_their_limits():
    # The verifier runs without Flask, so it keeps its own copy of the settings' names and limit.
    assert set(BALLOT_PARAMS) == set(voting_settings.PARAM_KEYS)
    assert voting_settings.MAX_LIMIT == MAX_CHOICES_LIMIT
    assert set(RULE_KINDS) == {"one-per-region", "one-city-wide", "approval", "knapsack"}


# --- gap 11: region budgets whatever the rule -----------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "per_region", "budgets"),
    [
        ("greedy", False, {"1": 50000, "2": 40000, "3": 30000}),  # city-wide, budgets set
        ("mes", False, {"2": 40000}),
        ("greedy", True, {}),  # per region with none set: every region has 0
        ("plurality-per-region", False, {}),
    ],
)
def test_region_budgets_are_accepted_whatever_the_counting_rule(verify, rule, per_region, budgets):
    definition = make_definition(rule, per_region=per_region)
    definition["region_budgets_cents"] = budgets
    assert_accepted(verify, signed(definition))


def test_the_page_no_longer_makes_region_budgets_depend_on_the_rule():
    text = page_text()
    assert "empty when the rule is city-wide only" not in text
    assert "The budgets the cycle set per region, whatever the counting rule" in text


# --- gap 12: receipt codes ------------------------------------------------------------------------


def test_the_pages_receipt_example_is_what_the_code_computes():
    text = page_text()
    example = re.search(r"e\.g\. `([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})`", text)
    assert example, "the page shows a receipt code"
    code = example.group(1)
    normalised = normalise_receipt(code)
    assert normalised == code.replace("-", "")
    assert f"`{normalised}`" in text
    assert f"`{receipt_hash(code)}`" in text
    typed = re.search(r"\(`([a-z2-7 ]+)` normalises to the same\)", text)
    assert typed and receipt_hash(typed.group(1)) == receipt_hash(code)


def documented_normalisation(text: str) -> str:
    """The page's definition, written from the page alone: keep ASCII letters and digits, the
    letters in upper case."""
    return "".join(ch.upper() for ch in text if ch in string.ascii_letters + string.digits)


def test_the_documented_normalisation_is_the_codes_on_any_ascii_text():
    rng = random.Random(17)
    samples = ["K7Q2-M4XA-3PLD-W6ZT", " k7q2m4xa 3pld-w6zt\t", "", "----", "a.b,c/d"]
    samples += [
        "".join(rng.choice(string.printable) for _ in range(rng.randrange(40))) for _ in range(500)
    ]
    for text in samples:
        assert documented_normalisation(text) == normalise_receipt(text), text
        digest = hashlib.sha256(documented_normalisation(text).encode("ascii"))
        assert digest.hexdigest() == receipt_hash(text), text


def test_the_page_states_how_the_code_treats_text_that_is_not_ascii():
    # The one place the page's ASCII definition and the code part: Unicode upper-casing.
    assert receipt_hash("ß") == receipt_hash("SS")
    assert "`ß` there counts as `SS`" in page_text()


# --- the definition as the tally builds it --------------------------------------------------------


def test_the_synthetic_definition_and_the_docs_example_are_valid():
    assert validate_definition(make_definition()) is not None
    with pytest.raises(TallyError, match="ballot_rule.name"):
        validate_definition(make_definition() | {"ballot_rule": {"name": "x", "params": {}}})
