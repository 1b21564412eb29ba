"""Paper ballots on the board and in the tally, on PostgreSQL (docs/tally-format.md, "Paper
ballots"). The paper screens are built elsewhere: these tests write the rows a sealed batch
leaves (its batch, the participations flagged on paper, its ballots in the queue) directly."""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from datetime import date

import pytest
import sqlalchemy as sa

from opdigital.board import services as board
from opdigital.board.models import BoardEntry
from opdigital.extensions import db
from opdigital.ledger import chain
from opdigital.ledger.verify import main as verify_main
from opdigital.paper.models import BatchStatus, PaperBatch
from opdigital.tally.summary import tally_summary
from opdigital.voting.models import Ballot, Participation
from tests.support import voting as vs


def paper_batch(
    world,
    point,
    number: int,
    ballots,
    *,
    status=BatchStatus.SEALED,
    voters=None,
    sheets=None,
    receipt_hashes=None,
):
    """A batch of `ballots` from `point`, its ballots queued and `voters` (default: one per
    ballot) recorded as paper participations at the point."""
    batch = PaperBatch(
        cycle_id=world.cycle.id,
        voting_point_id=point.id,
        number=number,
        sheet_count=len(ballots) if sheets is None else sheets,
        status=status,
    )
    db.session.add(batch)
    db.session.flush()
    for _ in range(len(ballots) if voters is None else voters):
        db.session.add(
            Participation(
                cycle_id=world.cycle.id,
                voter_key=secrets.token_hex(32),
                voted_on=date.today(),
                voting_point_id=point.id,
                on_paper=True,
            )
        )
    hashes = receipt_hashes or [secrets.token_hex(32) for _ in ballots]
    for choices, digest in zip(ballots, hashes, strict=True):
        db.session.add(
            Ballot(
                cycle_id=world.cycle.id,
                receipt_hash=digest,  # the sealing's: the hash of a random secret nobody holds
                choices=sorted(choices),
                paper_batch_id=batch.id,
            )
        )
    db.session.commit()
    return batch


def test_sealing_carries_each_paper_ballots_batch_into_the_chain(app_ctx, client):
    world = vs.voting_cycle()
    a, b, c = world.ids[:3]
    vs.cast_all(client, world, [[a, b], [b, c]], first=300)
    point = vs.voting_point("tok-paper-1", name="Escola Estadual Central")
    batch = paper_batch(world, point, 1, [[a, c], [a], [b, c]])
    sealed = board.seal(world.cycle, wait=True)
    assert sealed == 5
    rows = db.session.scalars(
        sa.select(BoardEntry).where(BoardEntry.cycle_id == world.cycle.id).order_by(BoardEntry.seq)
    ).all()
    assert sorted(r.paper_batch_id or 0 for r in rows) == [0, 0, batch.id, batch.id, batch.id]
    entries = board.board_entries(world.cycle.id)
    assert [e.paper_batch for e in entries] == [r.paper_batch_id for r in rows]
    assert chain.check_chain(world.slug, entries).ok
    for entry in entries:  # the batch is in the hash of paper entries only
        assert entry.entry_hash == chain.entry_hash(
            world.slug, entry.seq, entry.receipt_hash, entry.choices, entry.prev_hash,
            entry.paper_batch,
        )  # fmt: skip
        online = chain.entry_hash(
            world.slug, entry.seq, entry.receipt_hash, entry.choices, entry.prev_hash
        )
        assert (entry.entry_hash == online) == (entry.paper_batch is None)
    assert board.pending_count(world.cycle.id) == 0


def _close_and_tally(runner, world, tmp_path):
    closed = runner.invoke(args=["cycle", "close", world.slug])
    assert closed.exit_code == 0, closed.output
    out = tmp_path / "tally.zip"
    return runner.invoke(args=["tally", world.slug, "--out", str(out)]), out


def test_the_tally_package_lists_the_batches_and_each_points_paper_participations(
    app_ctx, client, runner, signing_key, tmp_path, capsys, board_reading
):
    world = vs.voting_cycle()
    a, b, c = world.ids[:3]
    vs.cast_all(client, world, [[a, b], [a, c], [b, c]], first=320)
    central = vs.voting_point("tok-paper-2", name="Escola Estadual Central")
    bento = vs.voting_point("tok-paper-3", name="Centro Cultural São Bento")
    first = paper_batch(world, central, 1, [[a, b], [a]])
    second = paper_batch(world, central, 2, [[c]])
    third = paper_batch(world, bento, 1, [[b, c], [], [a, c]])
    # A batch still being entered is not in the package (its sheets are not on the board).
    paper_batch(world, bento, 2, [], status=BatchStatus.ENTERING, voters=0, sheets=4)
    counted, out = _close_and_tally(runner, world, tmp_path)
    assert counted.exit_code == 0, counted.output
    # The tally's check read the board itself, or took the reading made during the count.
    assert board_reading()
    files = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    assert files.namelist() == [
        "cycle.json",
        "board.jsonl",
        "result.json",
        "paper.json",
        "SHA256SUMS",
        "SHA256SUMS.sig",
    ]
    paper = json.loads(files.read("paper.json"))
    assert paper == {
        "ballots": {"online": 3, "paper": 6},
        "batches": [
            {"id": first.id, "voting_point_id": central.id, "number": 1, "sheets": 2},
            {"id": second.id, "voting_point_id": central.id, "number": 2, "sheets": 1},
            {"id": third.id, "voting_point_id": bento.id, "number": 1, "sheets": 3},
        ],
        "voting_points": [
            {"id": central.id, "name": "Escola Estadual Central", "paper_participation": 3},
            {"id": bento.id, "name": "Centro Cultural São Bento", "paper_participation": 3},
        ],
    }
    board_lines = [json.loads(line) for line in files.read("board.jsonl").splitlines()]
    assert sum("paper_batch" in e for e in board_lines) == 6
    assert json.loads(files.read("result.json"))["ballots"] == 9
    capsys.readouterr()
    assert verify_main([str(out)]) == 0
    output = capsys.readouterr().out
    assert "ok  ballots: 3 online + 6 on paper = 9" in output
    summary = tally_summary(vs.reload(world.cycle))
    assert (summary.ballots, summary.paper_ballots, summary.online_ballots) == (9, 6, 3)
    assert summary.paper_batches == 3


def test_an_online_cycles_package_has_no_paper_json(app_ctx, client, runner, signing_key, tmp_path):
    world = vs.voting_cycle()
    vs.cast_all(client, world, [world.ids[:2]], first=340)
    counted, out = _close_and_tally(runner, world, tmp_path)
    assert counted.exit_code == 0, counted.output
    assert "paper.json" not in zipfile.ZipFile(io.BytesIO(out.read_bytes())).namelist()
    summary = tally_summary(vs.reload(world.cycle))
    assert (summary.paper_ballots, summary.online_ballots) == (0, 1)


def test_the_tally_refuses_paper_participations_whose_sheets_are_not_on_the_board(
    app_ctx, client, runner, signing_key, tmp_path
):
    world = vs.voting_cycle()
    a, b = world.ids[:2]
    point = vs.voting_point("tok-paper-4", name="Posto Barreiro")
    other = vs.voting_point("tok-paper-5", name="Posto Venda Nova")
    # One voter at Barreiro was recorded at Venda Nova by mistake: the totals agree (4 and 4),
    # the points do not.
    paper_batch(world, point, 1, [[a], [b]], voters=3)
    paper_batch(world, other, 1, [[a], [b]], voters=1)
    counted, _ = _close_and_tally(runner, world, tmp_path)
    assert counted.exit_code == 1
    assert (
        f"voting point {point.id} (Posto Barreiro): 3 paper participations recorded,"
        " but its batches hold 2 sheets"
    ) in counted.output


def test_a_paper_entry_is_shown_as_paper_with_its_batch(app_ctx, client):
    """Nobody holds a paper ballot's code; here the test does, to see the entry's page."""
    from opdigital.voting.receipts import new_receipt_code, receipt_hash
    from tests.support.client import csrf_token

    world = vs.voting_cycle()
    point = vs.voting_point("tok-paper-6", name="Posto Pampulha")
    code = new_receipt_code()
    batch = paper_batch(world, point, 1, [[world.ids[0]]], receipt_hashes=[receipt_hash(code)])
    board.seal(world.cycle, wait=True)
    url = f"/ciclos/{world.slug}/comprovante"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "codigo": code})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<dd id="entry-paper-batch">Em papel, lote {batch.id}</dd>' in html
    board_page = client.get(f"/ciclos/{world.slug}/quadro").get_data(as_text=True)
    assert "cédulas de papel não têm código do comprovante" in board_page


def test_a_batch_sealed_while_the_count_starts_makes_the_count_refuse_not_miss_it(
    app_ctx, client, runner, signing_key
):
    """A batch sealed between the tally's sealing of the board and its count waits in the
    queue: the count refuses (board_not_sealed) rather than sign a board without it."""
    from opdigital.board.services import BoardNotSealed
    from opdigital.tally import services as tally

    world = vs.voting_cycle()
    closed = runner.invoke(args=["cycle", "close", world.slug])
    assert closed.exit_code == 0, closed.output
    tally.seal_for_count(world.cycle)
    point = vs.voting_point("tok-paper-7", name="Posto Oeste")
    paper_batch(world, point, 1, [[world.ids[0]], [world.ids[1]]])
    with pytest.raises(BoardNotSealed):
        tally.count(world.cycle, None)
    db.session.rollback()
    assert board.pending_count(world.cycle.id) == 2
