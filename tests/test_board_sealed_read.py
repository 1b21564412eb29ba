"""The tally's reading of the board (`board.sealed_board`, issue 16): on PostgreSQL the server
writes board.jsonl's lines, and they must be byte for byte what the entry-by-entry reading
writes (`board_entries`, then `BoardEntry.line()` through `package.board_bytes`), with the same
ballots, head and number of paper entries. Boards the server cannot write so (a value JSON
escapes, choices that are not plain ints) are read entry by entry, with the same result, and
leave the tally's transaction usable.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opdigital.board import services as board
from opdigital.extensions import db
from opdigital.ledger import chain, package
from opdigital.paper.models import BatchStatus, PaperBatch
from tests.support import voting as vs
from tests.support.ledger import make_board, make_definition, make_result

_INSERT = sa.text(
    "INSERT INTO board_entry"
    " (cycle_id, seq, receipt_hash, choices, paper_batch_id, prev_hash, entry_hash)"
    " VALUES (:cycle, :seq, :receipt, CAST(:choices AS json), :batch, :prev, :entry)"
)
_MAX_SEQ = 2**31 - 1  # board_entry.seq is an integer
_HEX = st.text("0123456789abcdef", min_size=64, max_size=64)
# Strings JSON writes as they are: printable ASCII but the quote and the backslash.
_PLAIN_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters='"\\'),
    max_size=64,
)


def _world() -> tuple[int, list[int]]:
    """A cycle and two sealed paper batches for its paper entries: (cycle id, batch ids)."""
    world = vs.voting_cycle()
    point = vs.voting_point("tok-sealed-read", name="Escola Municipal")
    batches = [
        PaperBatch(
            cycle_id=world.cycle.id,
            voting_point_id=point.id,
            number=number,
            sheet_count=1,
            status=BatchStatus.SEALED,
        )
        for number in (1, 2)
    ]
    db.session.add_all(batches)
    db.session.commit()
    return world.cycle.id, [b.id for b in batches]


def _row(cycle_id, seq, choices_text, batch=None, *, receipt=None, prev=None, entry=None):
    digits = f"{seq:064x}"[-64:]
    return {
        "cycle": cycle_id,
        "seq": seq,
        "receipt": digits if receipt is None else receipt,
        "choices": choices_text,
        "batch": batch,
        "prev": digits[::-1] if prev is None else prev,
        "entry": ("f" + digits)[:64] if entry is None else entry,
    }


def _held_to_the_reference(cycle_id: int) -> board.SealedBoard:
    """sealed_board's result, after checking it against the entry-by-entry reading."""
    sealed = board.sealed_board(cycle_id)
    entries = board.board_entries(cycle_id)
    assert b"".join(sealed.lines) == package.board_bytes(entries)
    assert sealed.ballots == [e.choices for e in entries]
    assert all(type(b) is tuple for b in sealed.ballots)
    head = (entries[-1].seq, entries[-1].entry_hash) if entries else (0, chain.GENESIS_HASH)
    assert sealed.head == head
    assert sealed.paper == sum(e.paper_batch is not None for e in entries)
    return sealed


def _server_wrote(cycle_id: int) -> bool:
    """Whether the server's lines were taken (else `sealed_board` read entry by entry)."""
    try:
        board._sealed_board_from_lines(cycle_id)
    except board._NotPlain:
        return False
    return True


def _choices_text(draw, choices: list[int]) -> str:
    """The choices as the column may hold them: the app's json.dumps, or other spacing."""
    style = draw(st.sampled_from(["app", "compact", "spaced"]))
    if style == "app":
        return json.dumps(choices)
    if style == "compact":
        return "[" + ",".join(map(str, choices)) + "]"
    return " [ " + " ,  ".join(map(str, choices)) + " ] "


@st.composite
def _plain_boards(draw, batches: list[int]) -> list[tuple]:
    seqs = sorted(
        draw(
            st.one_of(
                st.lists(st.integers(1, 3000), min_size=1, max_size=25, unique=True),
                st.lists(st.integers(_MAX_SEQ - 3000, _MAX_SEQ), max_size=25, unique=True),
                st.integers(1, 25).map(lambda n: list(range(1, n + 1))),
            )
        )
    )
    rows = []
    for seq in seqs:
        choices = draw(
            st.one_of(
                st.lists(st.integers(0, 60), max_size=8),
                st.lists(st.integers(0, 2**63 - 1), max_size=300),
                st.just([]),
            )
        )
        strings = draw(st.one_of(st.tuples(_HEX, _HEX, _HEX), st.tuples(*[_PLAIN_TEXT] * 3)))
        rows.append(
            (
                seq,
                _choices_text(draw, choices),
                draw(st.sampled_from([None, None, *batches])),
                strings,
            )
        )
    return rows


@pytest.fixture
def world(app_ctx):
    return _world()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), per_chunk=st.integers(1, 5))
def test_the_servers_lines_are_the_entries_lines(world, monkeypatch, data, per_chunk):
    """Paper batches, empty and long choices, any spacing, big seqs and gaps, hashes or any
    other plain strings, over several chunks: the same bytes as the entries' own lines."""
    cycle_id, batches = world
    monkeypatch.setattr(board, "_LINES_PER_CHUNK", per_chunk)
    rows = data.draw(_plain_boards(batches))
    savepoint = db.session.begin_nested()
    try:
        if rows:  # receipts are unique in a cycle: each ends with its seq
            db.session.execute(
                _INSERT,
                [
                    _row(
                        cycle_id, seq, text, batch, receipt=r[:54] + f"{seq:010x}", prev=p, entry=e
                    )
                    for seq, text, batch, (r, p, e) in rows
                ],
            )
        sealed = _held_to_the_reference(cycle_id)
        assert sealed.lines == [] or _server_wrote(cycle_id)
    finally:
        savepoint.rollback()


def test_equal_choices_share_one_tuple_and_an_empty_board_is_the_genesis(world):
    cycle_id, _ = world
    sealed = _held_to_the_reference(cycle_id)
    assert (sealed.lines, sealed.ballots, sealed.head) == ([], [], (0, chain.GENESIS_HASH))
    db.session.execute(
        _INSERT, [_row(cycle_id, seq, text) for seq, text in enumerate(["[1, 2]", "[1,2]"], 1)]
    )
    first, second = _held_to_the_reference(cycle_id).ballots
    assert first == (1, 2) and first is second


def test_a_real_sealed_board_is_written_by_the_server(app_ctx, client):
    world = vs.voting_cycle()
    vs.cast_all(client, world, [world.ids[:2], world.ids[1:3], world.ids[2:4]], first=400)
    board.seal(world.cycle, wait=True)
    db.session.execute(sa.text("SET LOCAL jit = on"))
    _held_to_the_reference(world.cycle.id)
    assert _server_wrote(world.cycle.id)
    assert db.session.scalar(sa.text("SHOW jit")) == "on"  # off for the read only
    assert chain.check_chain(world.slug, board.board_entries(world.cycle.id)).ok


@pytest.mark.parametrize(
    "choices",
    ["[1.0]", "[1e2]", "[-0]", "[-3]", "[true]", "[[1], [2]]", '["a b"]', "[1,\t2]", "\n[4]"],
)
def test_choices_the_server_cannot_write_are_read_entry_by_entry(world, monkeypatch, choices):
    cycle_id, _ = world
    monkeypatch.setattr(board, "_LINES_PER_CHUNK", 2)
    texts = ["[1, 2]", "[3]", choices, "[5]", "[6]", "[7]"]  # the odd one in the second chunk
    db.session.execute(_INSERT, [_row(cycle_id, seq, t) for seq, t in enumerate(texts, 1)])
    _held_to_the_reference(cycle_id)
    assert not _server_wrote(cycle_id)  # read entry by entry
    assert db.session.scalar(sa.select(sa.literal(1))) == 1  # the transaction goes on


@pytest.mark.parametrize("odd", ['"', "\\", "é", "\t", "\x7f", "\n", "\x01", '","seq":9,"x":"'])
@pytest.mark.parametrize("field", ["receipt", "prev", "entry"])
def test_strings_json_escapes_are_read_entry_by_entry(world, monkeypatch, odd, field):
    cycle_id, batches = world
    monkeypatch.setattr(board, "_LINES_PER_CHUNK", 2)
    rows = [_row(cycle_id, seq, "[1]", batches[0] if seq % 2 else None) for seq in range(1, 6)]
    rows[3][field] = "ab" + odd + "cd"
    db.session.execute(_INSERT, rows)
    _held_to_the_reference(cycle_id)
    assert not _server_wrote(cycle_id)
    assert db.session.scalar(sa.select(sa.literal(1))) == 1


def test_the_builder_takes_the_boards_bytes_ready_made():
    """The tally hands PackageBuilder board.jsonl's bytes: the same package as from entries."""
    key = Ed25519PrivateKey.generate()
    definition, entries = make_definition("mes"), make_board()
    result = make_result(definition, entries)
    with package.PackageBuilder(definition, entries) as builder:
        from_entries = builder.finish(result, key)
    lines = [e.line() + b"\n" for e in entries]
    for pieces in ([b"".join(lines)], lines, [b"".join(lines[:2]), b"", b"".join(lines[2:])]):
        with package.PackageBuilder(definition, board=pieces) as builder:
            assert builder.finish(result, key) == from_entries
    for wrong in ({}, {"entries": entries, "board": lines}):
        with pytest.raises(TypeError):
            package.PackageBuilder(definition, **wrong)
