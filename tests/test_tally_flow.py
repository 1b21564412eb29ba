"""Close, tally, publish and verify on PostgreSQL, through the command line and the API."""

from __future__ import annotations

import io
import os
import stat
import zipfile

from opdigital.cycles.states import CycleState
from opdigital.extensions import db
from opdigital.ledger.verify import main as verify_main
from opdigital.proposals.models import Proposal
from tests.support import voting as vs


def _cast(client, world, ballots):
    vs.cast_all(client, world, ballots, first=600)


def test_keys_generate_writes_a_private_file_and_refuses_to_overwrite(app_ctx, runner, signing_key):
    mode = stat.S_IMODE(os.stat(signing_key).st_mode)
    assert mode == 0o600
    again = runner.invoke(args=["keys", "generate"])
    assert again.exit_code == 1
    assert "--force" in again.output


def test_close_tally_verify_publish(app_ctx, app, client, runner, signing_key, tmp_path):
    world = vs.voting_cycle()
    a, b, c = world.ids[:3]
    _cast(client, world, [[a, b], [a, c], [a, b], [b, c]])
    closed = runner.invoke(args=["cycle", "close", world.slug])
    assert closed.exit_code == 0, closed.output
    assert "4 entries" in closed.output
    out = tmp_path / "tally.zip"
    counted = runner.invoke(args=["tally", world.slug, "--out", str(out)])
    assert counted.exit_code == 0, counted.output
    package = out.read_bytes()
    assert verify_main([str(out)]) == 0
    result = zipfile.ZipFile(io.BytesIO(package)).read("result.json")
    assert b'"ballots": 4' in result and b'"participation": 4' in result
    db.session.expire_all()
    cycle = vs.reload(world.cycle)
    assert cycle.state == CycleState.TALLIED
    statuses = {p.id: p.status for p in db.session.scalars(db.select(Proposal))}
    assert statuses[a] == "selected"
    executions = {p.id: p.execution_status for p in db.session.scalars(db.select(Proposal))}
    assert executions[a] == "not_started"  # a selected work is then followed
    assert {executions[pid] for pid, s in statuses.items() if s == "not_selected"} <= {None}
    # Not public before publication.
    assert client.get(f"/api/v1/cycles/{world.slug}/tally.zip").status_code == 404
    published = runner.invoke(args=["cycle", "publish", world.slug])
    assert published.exit_code == 0, published.output
    download = client.get(f"/api/v1/cycles/{world.slug}/tally.zip")
    assert download.status_code == 200
    assert download.data == package  # byte for byte what was signed
    keys = client.get("/api/v1/keys").get_json()["keys"]
    assert len(keys) == 1 and len(keys[0]["fingerprint"]) == 64
    # The verify command gives the same verdict, and refuses another signer.
    assert runner.invoke(args=["verify", str(out)]).exit_code == 0
    other = tmp_path / "other.pem"
    from opdigital.ledger.keys import generate_key_file, load_private_key, public_key_pem

    generate_key_file(other)
    (tmp_path / "other.pub").write_text(public_key_pem(load_private_key(other)))
    assert verify_main([str(out), "--public-key", str(tmp_path / "other.pub")]) == 1


def test_tally_twice_gives_the_same_bytes(
    app_ctx, app, client, runner, signing_key, tmp_path, board_reading
):
    world = vs.voting_cycle()
    _cast(client, world, [world.ids[:2], world.ids[1:3]])
    assert runner.invoke(args=["cycle", "close", world.slug]).exit_code == 0
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    assert runner.invoke(args=["tally", world.slug, "--out", str(first)]).exit_code == 0
    assert board_reading()
    # Once tallied, `tally` writes the stored package again.
    assert runner.invoke(args=["tally", world.slug, "--out", str(second)]).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    from opdigital.board.services import board_entries
    from opdigital.ledger import keys
    from opdigital.ledger.package import build_package
    from opdigital.tally.services import definition_of, tally_of

    record = tally_of(vs.reload(world.cycle))
    rebuilt = build_package(
        definition_of(vs.reload(world.cycle)),
        board_entries(world.cycle.id),
        record.result,
        keys.load_private_key(signing_key),
    )
    assert rebuilt == record.package


def test_tally_refuses_an_open_cycle_and_a_missing_key(app_ctx, app, client, runner, tmp_path):
    world = vs.voting_cycle()
    refused = runner.invoke(args=["tally", world.slug, "--out", str(tmp_path / "x.zip")])
    assert refused.exit_code == 1
    assert "closed" in refused.output
    saved = app.config["SIGNING_KEY_PATH"]
    app.config["SIGNING_KEY_PATH"] = str(tmp_path / "missing.pem")
    try:
        assert runner.invoke(args=["cycle", "close", world.slug]).exit_code == 0
        missing = runner.invoke(args=["tally", world.slug, "--out", str(tmp_path / "x.zip")])
        assert missing.exit_code == 1
        assert "keys generate" in missing.output
    finally:
        app.config["SIGNING_KEY_PATH"] = saved


def test_the_tally_counts_the_board_once(app_ctx, app, client, runner, signing_key, tmp_path):
    """Its own check of the package reuses the count (ledger.verify.Counted), and still finds
    the package holds exactly what was counted: one count of the board, not two."""
    from unittest import mock

    from opdigital.ledger import result as ledger_result

    world = vs.voting_cycle()
    a, b, c = world.ids[:3]
    _cast(client, world, [[a, b], [a, c], [b, c]])
    assert runner.invoke(args=["cycle", "close", world.slug]).exit_code == 0
    with mock.patch.object(ledger_result, "count", wraps=ledger_result.count) as count:
        tallied = runner.invoke(args=["tally", world.slug, "--out", str(tmp_path / "t.zip")])
    assert tallied.exit_code == 0, tallied.output
    assert count.call_count == 1
    assert verify_main([str(tmp_path / "t.zip")]) == 0


def test_the_tally_reads_the_proposals_histories_in_one_query(
    app_ctx, app, client, runner, signing_key, tmp_path
):
    """Marking each proposal selected or not appends to its public history: the histories of
    all the proposals on the ballot are read at once, not one query per proposal."""
    import sqlalchemy as sa

    world = vs.voting_cycle()
    a, b, c = world.ids[:3]
    _cast(client, world, [[a, b], [a, c], [b, c]])
    assert runner.invoke(args=["cycle", "close", world.slug]).exit_code == 0
    db.session.expire_all()  # nothing loaded before the tally
    reads: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "proposal_history" in statement:
            reads.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        tallied = runner.invoke(args=["tally", world.slug, "--out", str(tmp_path / "t.zip")])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert tallied.exit_code == 0, tallied.output
    assert len(world.ids) >= 3
    assert len(reads) == 1, reads
    db.session.expire_all()
    for proposal in db.session.scalars(sa.select(Proposal).where(Proposal.id.in_(world.ids))):
        assert proposal.history[-1].to_status == proposal.status  # its result, in its history


def test_a_package_its_own_check_refuses_is_not_kept(
    app_ctx, app, client, runner, signing_key, tmp_path, monkeypatch
):
    """The check runs while the package is stored (`tally.services`): when it fails, the
    storing is undone and the cycle stays closed, with nothing marked selected."""
    from opdigital.ledger.verify import CheckFailed
    from opdigital.tally import services as tallies
    from opdigital.tally.models import Tally

    world = vs.voting_cycle()
    _cast(client, world, [world.ids[:2], world.ids[1:3]])
    assert runner.invoke(args=["cycle", "close", world.slug]).exit_code == 0
    checked = []

    def refuses(package, **kwargs):
        checked.append(package)
        raise CheckFailed("entry 2: its entry_hash is not the hash of its content")

    monkeypatch.setattr(tallies, "verify_package", refuses)
    out = tmp_path / "tally.zip"
    refused = runner.invoke(args=["tally", world.slug, "--out", str(out)])
    assert refused.exit_code == 1
    assert "failed verification: entry 2: its entry_hash" in refused.output
    assert len(checked) == 1 and checked[0].startswith(b"PK")
    assert not out.exists()
    db.session.expire_all()
    assert vs.reload(world.cycle).state == CycleState.CLOSED
    assert db.session.get(Tally, world.cycle.id) is None
    assert {p.status for p in db.session.scalars(db.select(Proposal))} == {"on_ballot"}
    monkeypatch.undo()  # the same cycle tallies once its check passes
    counted = runner.invoke(args=["tally", world.slug, "--out", str(out)])
    assert counted.exit_code == 0, counted.output
    assert verify_main([str(out)]) == 0
