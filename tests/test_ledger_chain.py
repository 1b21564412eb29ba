"""The board's hash chain: canonical encoding, entry hashes, extend and check_chain (pure)."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from opdigital.ledger.chain import (
    GENESIS_HASH,
    BoardEntry,
    ChainError,
    canonical_json,
    check_chain,
    entry_hash,
    extend,
)

SLUG = "op-2025"


def receipt(n: int) -> str:
    """A receipt hash as the app computes it (SHA-256 hex of a receipt code)."""
    return hashlib.sha256(f"RECEIPT-{n}".encode()).hexdigest()


def board(choices: list[list[int]], slug: str = SLUG) -> list[BoardEntry]:
    return extend(slug, 0, GENESIS_HASH, [(receipt(i), c) for i, c in enumerate(choices, 1)])


def rehashed(entry: BoardEntry, slug: str = SLUG, **changes) -> BoardEntry:
    """`entry` with `changes` and an entry_hash recomputed over them (an attacker's edit)."""
    changed = dataclasses.replace(entry, **changes)
    digest = entry_hash(slug, changed.seq, changed.receipt_hash, changed.choices, changed.prev_hash)
    return dataclasses.replace(changed, entry_hash=digest)


def test_canonical_json_sorts_keys_drops_spaces_and_escapes_non_ascii():
    assert canonical_json({"b": [1, 2], "a": "São"}) == b'{"a":"S\\u00e3o","b":[1,2]}'


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_entry_hash_is_sha256_of_the_documented_encoding():
    prev, rec = GENESIS_HASH, receipt(1)
    text = (
        f'{{"choices":[3,7],"cycle":"{SLUG}","prev_hash":"{prev}","receipt_hash":"{rec}","seq":1}}'
    )
    assert entry_hash(SLUG, 1, rec, [3, 7], prev) == hashlib.sha256(text.encode()).hexdigest()


def test_entry_hash_golden_vector_is_stable():
    # Entry 1 of docs/tally-format.md's worked example: a change here breaks every package.
    rec = hashlib.sha256(b"EXEMPLO-1").hexdigest()
    digest = entry_hash("op-exemplo-2025", 1, rec, [3, 7], GENESIS_HASH)
    assert digest == "c7b8eb80615e65eddd2f5abdc04c020f6aab89c2c643ae5ced82a4bc03abb9f5"


def test_entry_hash_binds_the_cycle_slug():
    rec = receipt(1)
    assert entry_hash("a", 1, rec, [1], GENESIS_HASH) != entry_hash("b", 1, rec, [1], GENESIS_HASH)


def test_extend_from_genesis_links_every_entry_to_the_previous_one():
    entries = board([[1, 2], [], [3]])
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    assert entries[1].choices == ()
    for e in entries:
        assert e.entry_hash == entry_hash(SLUG, e.seq, e.receipt_hash, e.choices, e.prev_hash)


def test_extend_after_a_head_equals_extending_all_at_once():
    whole = board([[1], [2], [3], [4]])
    first = whole[:2]
    rest = extend(SLUG, 2, first[-1].entry_hash, [(receipt(3), [3]), (receipt(4), (4,))])
    assert first + rest == whole


def test_extend_with_no_items_returns_nothing():
    assert extend(SLUG, 0, GENESIS_HASH, []) == []


@pytest.mark.parametrize(
    ("head_seq", "head_hash", "items", "message"),
    [
        (0, GENESIS_HASH, [(receipt(1), [2, 1])], "entry 1: choices are not sorted"),
        (0, GENESIS_HASH, [(receipt(1), [2, 2])], "without duplicates"),
        (0, GENESIS_HASH, [(receipt(1), [True])], "integers"),
        (0, GENESIS_HASH, [(receipt(1).upper(), [1])], "receipt_hash"),
        (0, GENESIS_HASH, [("abc", [1])], "receipt_hash"),
        (0, "1" * 64, [(receipt(1), [1])], "genesis"),
        (3, GENESIS_HASH, [(receipt(1), [1])], "genesis"),
        (-1, GENESIS_HASH, [], "head_seq"),
        (1, "xyz", [], "head_hash"),
    ],
)
def test_extend_refuses_what_check_chain_would_reject(head_seq, head_hash, items, message):
    with pytest.raises(ChainError, match=message):
        extend(SLUG, head_seq, head_hash, items)


def test_entry_round_trips_through_its_dict():
    entry = board([[4, 9]])[0]
    data = entry.as_dict()
    assert list(data) == ["seq", "receipt_hash", "choices", "prev_hash", "entry_hash"]
    assert data["choices"] == [4, 9]
    assert BoardEntry.from_dict(data) == entry


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("prev_hash"), "exactly the keys"),
        (lambda d: d.update(extra=1), "exactly the keys"),
        (lambda d: d.update(seq=True), "seq must be an integer"),
        (lambda d: d.update(seq=1.0), "seq must be an integer"),
        (lambda d: d.update(choices=["1"]), "choices must be a list of integers"),
        (lambda d: d.update(choices=(1,)), "choices must be a list of integers"),
        (lambda d: d.update(entry_hash=None), "entry_hash must be a string"),
    ],
)
def test_from_dict_refuses_malformed_entries(change, message):
    data = board([[1]])[0].as_dict()
    change(data)
    with pytest.raises(ChainError, match=message):
        BoardEntry.from_dict(data)


def test_from_dict_refuses_a_non_object():
    with pytest.raises(ChainError, match="JSON object"):
        BoardEntry.from_dict([1, 2])


def test_check_chain_reports_head_and_count():
    entries = board([[1], [2, 3], []])
    report = check_chain(SLUG, entries)
    assert report.ok
    assert report.count == 3
    assert report.head == (3, entries[-1].entry_hash)


def test_check_chain_of_an_empty_board_is_the_genesis():
    report = check_chain(SLUG, [])
    assert report.ok and report.head == (0, GENESIS_HASH) and report.count == 0


def problem(entries: list[BoardEntry], slug: str = SLUG) -> tuple[str | None, int | None]:
    report = check_chain(slug, entries)
    return report.problem, report.problem_seq


def test_a_changed_choice_without_rehash_fails_its_entry_hash():
    entries = board([[1], [2], [3]])
    entries[1] = dataclasses.replace(entries[1], choices=(3,))
    message, seq = problem(entries)
    assert seq == 2
    assert message.startswith("entry 2: entry_hash does not match the entry's content")


def test_a_changed_choice_with_rehash_breaks_the_next_link():
    entries = board([[1], [2], [3]])
    entries[1] = rehashed(entries[1], choices=(3,))
    assert problem(entries) == ("entry 3: prev_hash does not match entry 2's hash", 3)


def test_a_changed_last_entry_with_rehash_passes_the_chain_but_moves_the_head():
    # Nothing after it to break: only a recorded head (or the signed result) reveals it.
    entries = board([[1], [2]])
    original_head = check_chain(SLUG, entries).head
    entries[1] = rehashed(entries[1], choices=(1,))
    report = check_chain(SLUG, entries)
    assert report.ok and report.head != original_head


def test_a_removed_entry_is_a_gap():
    entries = board([[1], [2], [3]])
    del entries[1]
    message, seq = problem(entries)
    assert seq == 3
    assert message == (
        "entry 3: found where entry 2 should be (an entry is missing, repeated or out of order)"
    )


def test_swapped_entries_are_out_of_order():
    entries = board([[1], [2], [3]])
    entries[0], entries[1] = entries[1], entries[0]
    message, seq = problem(entries)
    assert seq == 2 and message.startswith("entry 2: found where entry 1 should be")


def test_a_repeated_entry_is_caught():
    entries = board([[1], [2]])
    entries.insert(1, entries[0])
    assert problem(entries)[1] == 1


def test_entry_one_must_start_from_genesis():
    entries = board([[1]])
    entries[0] = rehashed(entries[0], prev_hash="f" * 64)
    assert problem(entries) == ("entry 1: prev_hash is not the genesis hash (64 zeros)", 1)


def test_a_duplicate_receipt_is_named_with_its_first_use():
    entries = extend(
        SLUG, 0, GENESIS_HASH, [(receipt(1), [1]), (receipt(2), [2]), (receipt(1), [])]
    )
    assert problem(entries) == ("entry 3: receipt_hash already used by entry 1", 3)


def test_unsorted_choices_are_reported_even_when_hashed():
    entries = board([[1], [2]])
    entries[0] = rehashed(entries[0], choices=(5, 4))
    assert problem(entries) == ("entry 1: choices are not sorted ascending without duplicates", 1)


def test_uppercase_hex_is_not_accepted():
    entries = board([[1]])
    entries[0] = dataclasses.replace(entries[0], entry_hash=entries[0].entry_hash.upper())
    assert problem(entries) == ("entry 1: entry_hash is not 64 lowercase hex digits", 1)


def test_a_board_replayed_into_another_cycle_fails_at_entry_one():
    entries = board([[1], [2]], slug="op-2024")
    message, seq = problem(entries, slug=SLUG)
    assert seq == 1 and "entry_hash does not match" in message


def test_the_report_keeps_the_valid_prefix_head():
    entries = board([[1], [2], [3]])
    entries[2] = dataclasses.replace(entries[2], choices=(9,))
    report = check_chain(SLUG, entries)
    assert not report.ok
    assert report.head == (2, entries[1].entry_hash)
