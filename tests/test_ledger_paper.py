"""Paper ballots on the board and in the tally package (pure: docs/tally-format.md, "Paper
ballots"): the entry's batch is hashed only when set, paper.json is signed with the rest, and
the verifier ties the batches to the board and to each point's paper participations."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.ledger import package
from opdigital.ledger.chain import (
    GENESIS_HASH,
    BoardEntry,
    ChainError,
    canonical_json,
    check_chain,
    entry_hash,
    extend,
)
from opdigital.ledger.paper import Batch, Point, paper_json
from opdigital.ledger.verify import CheckFailed, verify_package
from tests.support.ledger import (
    BALLOTS,
    SLUG,
    failure,
    make_definition,
    make_result,
    receipt,
    rezip,
    unzip,
)

# Of the 12 ballots of tests/support/ledger.py: entries 2, 5 and 9 come from batch 101 (batch 1
# of point 7, 3 sheets), entries 4 and 11 from batch 102 (batch 1 of point 9, 2 sheets).
PAPER_OF = {2: 101, 5: 101, 9: 101, 4: 102, 11: 102}
BATCHES = [Batch(101, 7, 1, 3), Batch(102, 9, 1, 2)]
POINTS = [Point(7, "Escola Estadual Central", 3), Point(9, "Centro Cultural São Bento", 2)]


def paper_board(paper_of=PAPER_OF) -> list[BoardEntry]:
    items = [(receipt(i), b, paper_of.get(i)) for i, b in enumerate(BALLOTS, 1)]
    return extend(SLUG, 0, GENESIS_HASH, items)


def paper_package(
    *, entries=None, batches=BATCHES, points=POINTS, paper=None, key=None
) -> tuple[bytes, Ed25519PrivateKey]:
    key = key or Ed25519PrivateKey.generate()
    definition = make_definition()
    entries = paper_board() if entries is None else entries
    if paper is None:
        on_paper = sum(e.paper_batch is not None for e in entries)
        paper = paper_json(batches, points, len(entries), on_paper)
    result = make_result(definition, entries)
    return package.build_package(definition, entries, result, key, paper), key


def with_paper(files: dict[str, bytes], change) -> dict[str, bytes]:
    paper = json.loads(files["paper.json"])
    change(paper)
    return files | {"paper.json": package.human_json(paper)}


# --- the chain -------------------------------------------------------------------------------


def test_an_online_entry_hashes_as_before_paper_ballots_existed():
    # Entry 1 of docs/tally-format.md's worked example, with and without an explicit None.
    rec = hashlib.sha256(b"EXEMPLO-1").hexdigest()
    golden = "c7b8eb80615e65eddd2f5abdc04c020f6aab89c2c643ae5ced82a4bc03abb9f5"
    assert entry_hash("op-exemplo-2025", 1, rec, [3, 7], GENESIS_HASH) == golden
    assert entry_hash("op-exemplo-2025", 1, rec, [3, 7], GENESIS_HASH, None) == golden
    (entry,) = extend("op-exemplo-2025", 0, GENESIS_HASH, [(rec, [3, 7], None)])
    assert entry.entry_hash == golden and entry.paper_batch is None
    assert "paper_batch" not in entry.as_dict()


def test_a_paper_entry_hashes_its_batch_under_the_documented_key():
    rec = hashlib.sha256(b"EXEMPLO-1").hexdigest()
    text = (
        '{"choices":[3,7],"cycle":"op-exemplo-2025","paper_batch":12,'
        f'"prev_hash":"{GENESIS_HASH}","receipt_hash":"{rec}","seq":1}}'
    )
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert entry_hash("op-exemplo-2025", 1, rec, [3, 7], GENESIS_HASH, 12) == digest
    (entry,) = extend("op-exemplo-2025", 0, GENESIS_HASH, [(rec, [3, 7], 12)])
    assert entry.entry_hash == digest
    assert entry.as_dict()["paper_batch"] == 12
    line = canonical_json(entry.as_dict())
    assert b'"paper_batch":12' in line and BoardEntry.from_dict(json.loads(line)) == entry


def test_online_and_paper_items_chain_together_and_check():
    entries = paper_board()
    assert [e.paper_batch for e in entries] == [PAPER_OF.get(i) for i in range(1, 13)]
    report = check_chain(SLUG, entries)
    assert report.ok and report.count == 12
    # The batch is bound into the hash: moving a ballot to another batch breaks its entry.
    moved = list(entries)
    moved[1] = BoardEntry(**(entries[1].__dict__ | {"paper_batch": 102}))
    report = check_chain(SLUG, moved)
    assert report.problem.startswith("entry 2: entry_hash does not match")
    # ...and so does making a paper ballot pass for an online one.
    moved[1] = BoardEntry(**(entries[1].__dict__ | {"paper_batch": None}))
    assert check_chain(SLUG, moved).problem.startswith("entry 2: entry_hash does not match")


@pytest.mark.parametrize("batch", [0, -1, True, "3", 1.0])
def test_a_bad_paper_batch_is_refused_everywhere(batch):
    with pytest.raises(ChainError, match="paper_batch must be a positive integer"):
        extend(SLUG, 0, GENESIS_HASH, [(receipt(1), [1], batch)])
    data = paper_board()[1].as_dict() | {"paper_batch": batch}
    with pytest.raises(ChainError, match="paper_batch must be a positive integer"):
        BoardEntry.from_dict(data)
    entry = BoardEntry(**(paper_board()[0].__dict__ | {"paper_batch": batch}))
    assert "paper_batch must be a positive integer" in check_chain(SLUG, [entry]).problem


def test_a_null_paper_batch_key_is_refused():
    data = paper_board()[0].as_dict() | {"paper_batch": None}
    with pytest.raises(ChainError, match="must not be null"):
        BoardEntry.from_dict(data)


def test_an_item_of_another_length_is_refused():
    with pytest.raises(ChainError, match="an item is"):
        extend(SLUG, 0, GENESIS_HASH, [(receipt(1), [1], 3, 4)])


# --- the package -----------------------------------------------------------------------------


def test_a_package_with_paper_ballots_holds_paper_json_signed_with_the_rest():
    data, _ = paper_package()
    files = unzip(data)
    assert list(files) == [
        "cycle.json",
        "board.jsonl",
        "result.json",
        "paper.json",
        "SHA256SUMS",
        "SHA256SUMS.sig",
    ]
    sums = files["SHA256SUMS"].decode().splitlines()
    assert [line.split("  ")[1] for line in sums] == [
        "board.jsonl",
        "cycle.json",
        "paper.json",
        "result.json",
    ]
    assert sums[2].split()[0] == hashlib.sha256(files["paper.json"]).hexdigest()
    assert json.loads(files["paper.json"]) == {
        "ballots": {"online": 7, "paper": 5},
        "batches": [
            {"id": 101, "voting_point_id": 7, "number": 1, "sheets": 3},
            {"id": 102, "voting_point_id": 9, "number": 1, "sheets": 2},
        ],
        "voting_points": [
            {"id": 7, "name": "Escola Estadual Central", "paper_participation": 3},
            {"id": 9, "name": "Centro Cultural São Bento", "paper_participation": 2},
        ],
    }
    assert "São Bento" in files["paper.json"].decode("utf-8")  # human JSON, UTF-8
    lines = files["board.jsonl"].splitlines()
    assert b'"paper_batch":101' in lines[1] and b"paper_batch" not in lines[0]
    parsed = package.read_package(data)
    assert parsed.paper == json.loads(files["paper.json"])
    assert [e.paper_batch for e in parsed.entries] == [e.paper_batch for e in paper_board()]
    assert package.paper_member(data)["ballots"] == {"online": 7, "paper": 5}


def test_an_online_package_has_no_paper_json():
    definition = make_definition()
    from tests.support.ledger import make_board

    entries = make_board()
    data = package.build_package(
        definition, entries, make_result(definition, entries), Ed25519PrivateKey.generate()
    )
    assert "paper.json" not in unzip(data)
    assert package.paper_member(data) is None
    assert package.read_package(data).paper is None


def test_sha256sums_must_list_paper_json_exactly_when_the_package_has_it(verify):
    data, key = paper_package()
    files = unzip(data)
    three = "".join(
        line + "\n"
        for line in files["SHA256SUMS"].decode().splitlines()
        if not line.endswith("paper.json")
    )
    code, output = verify(rezip(files | {"SHA256SUMS": three.encode()}))
    assert code == 1
    assert failure(output) == (
        "SHA256SUMS must list exactly board.jsonl, cycle.json, paper.json, result.json,"
        " in that order"
    )
    without = {name: body for name, body in files.items() if name != "paper.json"}
    code, output = verify(zip_in_order(without))
    assert code == 1
    # A package stripped of paper.json, its SHA256SUMS still listing it, is malformed.
    assert failure(output) == (
        "SHA256SUMS must list exactly board.jsonl, cycle.json, result.json, in that order"
    )


def zip_in_order(files: dict[str, bytes]) -> bytes:
    return package.zip_members(list(files.items()))


# --- the verifier ----------------------------------------------------------------------------


def test_a_genuine_package_with_paper_ballots_verifies(verify):
    data, _ = paper_package()
    code, output = verify(data)
    assert code == 0, output
    lines = output.strip().splitlines()
    assert lines[0] == (
        "ok  members cycle.json, board.jsonl, result.json, paper.json, SHA256SUMS,"
        " SHA256SUMS.sig present and well-formed"
    )
    assert "ok  SHA-256 of board.jsonl, cycle.json, paper.json, result.json match" in output
    assert [line.split()[1] for line in lines[-4:-1]] == [
        "paper",
        "paper",
        "ballots:",
    ]
    assert "paper batches: 2 from 2 voting points" in output
    assert "ok  ballots: 7 online + 5 on paper = 12" in output
    assert "12 ballots, 12 board entries, 12 participation records" in output


def test_a_tampered_batch_count_is_named_even_when_its_hash_fails_first(verify):
    data, _ = paper_package()
    files = with_paper(unzip(data), lambda p: p["batches"][0].update(sheets=4))
    code, output = verify(rezip(files))  # not re-signed: paper.json's hash fails too
    assert code == 1
    assert failure(output) == "paper.json: its SHA-256 does not match the one in SHA256SUMS"
    assert (
        "fail  paper batch 101 (batch 1 of voting point 7, Escola Estadual Central):"
        " paper.json declares 4 sheets, but the board has 3 ballots of this batch"
    ) in output
    # The content checks still ran between the two (an auditor sees what else holds).
    assert "ok  chain: 12 entries" in output
    with pytest.raises(CheckFailed) as caught:
        verify_package(rezip(files))
    assert len(caught.value.failures) == 2
    assert caught.value.failures[1].startswith("paper batch 101 ")


def test_a_tampered_batch_count_with_fixed_sums_fails_the_signature_and_names_the_batch(verify):
    data, _ = paper_package()
    files = with_paper(unzip(data), lambda p: p["batches"][1].update(sheets=1))
    names = package.summed_members(True)
    files["SHA256SUMS"] = package.sha256sums({name: files[name] for name in names})
    code, output = verify(rezip(files))
    assert code == 1
    assert "the signature over SHA256SUMS does not hold" in failure(output)
    assert "fail  paper batch 102 (batch 1 of voting point 9, Centro Cultural São Bento)" in output


def test_a_tampered_batch_count_re_signed_by_the_key_holder_is_named(verify):
    data, key = paper_package()
    files = with_paper(unzip(data), lambda p: p["batches"][0].update(sheets=2))
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output) == (
        "paper batch 101 (batch 1 of voting point 7, Escola Estadual Central):"
        " paper.json declares 2 sheets, but the board has 3 ballots of this batch"
    )
    assert "fail  " not in output  # the only failure


def test_a_batch_on_the_board_that_paper_json_does_not_declare_is_named(verify):
    entries = paper_board(PAPER_OF | {12: 555})
    data, _ = paper_package(entries=entries)
    code, output = verify(data)
    assert code == 1
    assert failure(output) == "entry 12: paper batch 555 is not a batch paper.json declares"


def test_paper_entries_in_a_package_without_paper_json_are_named(verify):
    definition = make_definition()
    entries = paper_board()
    result = make_result(definition, entries)
    data = package.build_package(definition, entries, result, Ed25519PrivateKey.generate())
    code, output = verify(data)
    assert code == 1
    assert failure(output) == "entry 2: paper batch 101, but the package has no paper.json"


def test_point_participations_that_differ_from_its_batches_are_named(verify):
    points = [POINTS[0], Point(9, "Centro Cultural São Bento", 3)]
    data, _ = paper_package(points=points)
    code, output = verify(data)
    assert code == 1
    assert failure(output) == (
        "voting point 9 (Centro Cultural São Bento): 3 paper participations recorded,"
        " but its batches hold 2 sheets"
    )


def test_a_point_with_paper_participations_and_no_batch_is_named(verify):
    points = [*POINTS, Point(11, "Posto Barreiro", 4)]
    data, _ = paper_package(points=points)
    code, output = verify(data)
    assert code == 1
    assert failure(output) == (
        "voting point 11 (Posto Barreiro): 4 paper participations recorded,"
        " but its batches hold 0 sheets"
    )


def test_a_batch_missing_from_the_board_is_named(verify):
    batches = [*BATCHES, Batch(103, 9, 2, 1)]
    points = [POINTS[0], Point(9, "Centro Cultural São Bento", 3)]
    data, _ = paper_package(batches=batches, points=points)
    code, output = verify(data)
    assert code == 1
    assert failure(output).startswith(
        "paper batch 103 (batch 2 of voting point 9, Centro Cultural São Bento):"
        " paper.json declares 1 sheets, but the board has 0 ballots"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["ballots"].update(paper=6),
            "paper.json: ballots.paper is 6, but the board has 5 paper ballots",
        ),
        (
            lambda p: p["ballots"].update(online=8),
            "paper.json: ballots.online is 8, but the board has 7 online ballots",
        ),
        (
            lambda p: p["batches"][0].update(sheets="3"),
            "paper.json: batches[0].sheets must be an integer from 1 to 10000000",
        ),
        (
            lambda p: p["batches"][1].update(voting_point_id=8),
            "paper.json: batches[1].voting_point_id must be the id of a point in voting_points",
        ),
        (
            lambda p: p["batches"][1].update(voting_point_id=7),
            "paper.json: batches[1]: its point has another batch 1",
        ),
        (
            lambda p: p["batches"].reverse(),
            "paper.json: batches must be sorted by id, each id once",
        ),
        (lambda p: p.update(spoiled=0), "paper.json: the top level has an unexpected field"),
        (lambda p: p.pop("voting_points"), "paper.json: the top level lacks the field"),
        (
            lambda p: p["voting_points"][0].update(name=None),
            "paper.json: voting_points[0].name must be a string",
        ),
        (
            lambda p: p["voting_points"][0].update(paper_participation=-1),
            "paper.json: voting_points[0].paper_participation must be an integer from 0",
        ),
    ],
)
def test_a_changed_or_malformed_paper_json_is_named(verify, change, message):
    data, key = paper_package()
    files = with_paper(unzip(data), change)
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output).startswith(message)


def test_an_online_package_prints_no_paper_line(verify):
    from tests.support.ledger import make_package

    code, output = verify(make_package()[0])
    assert code == 0 and "paper" not in output
