"""Batches of paper sheets: double entry, comparison, resolution, sealing and its count guard."""

from __future__ import annotations

import re

import sqlalchemy as sa

from opdigital.board import services as board
from opdigital.board.models import BoardEntry
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.paper.models import BatchStatus, PaperBatch, PaperSheet
from opdigital.paper.participation import record_paper_participation
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting.models import Ballot
from tests.support import paper as ps
from tests.support.client import post_form
from tests.support.polling import audit_entries


def _print(app, world, count: int) -> None:
    client = ps.client_of(app, world.coordinator)
    assert (
        post_form(client, ps.point_url(world, "sheets"), {"count": str(count)}).status_code == 303
    )


def _paper_voters(app, world, n: int) -> None:
    """`n` voters sign the point's paper list (through the service: the web form is tested in
    test_paper_participation)."""
    with app.app_context():
        cycle = db.session.get(Cycle, world.cycle_id)
        for number in range(n):
            voter = EligibleVoter(
                voter_key=f"paper-voter-{number}", region_id=world.region_id, school_id=None
            )
            record_paper_participation(cycle, world.point_id, voter, ps.user(world.worker))


def _new_batch(app, world, client, sheets: int) -> int:
    response = post_form(client, ps.point_url(world, "batches"), {"sheet_count": str(sheets)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _enter(client, world, batch_id, sheets):
    url = ps.batch_url(world, batch_id, "entry")
    return post_form(client, url, ps.entry_form(sheets))


def _batch(app, batch_id) -> PaperBatch:
    with app.app_context():
        batch = db.session.get(PaperBatch, batch_id)
        db.session.expunge(batch)
        return batch


def _twenty_sheets(world) -> list:
    a, b, c, d, e = world.ids
    valid = [[a, b], [a, b, c], [b, d], [e, a], [c, d], [a, c, d], [b, c], [e, b]]
    sheets = [(serial, valid[serial % len(valid)]) for serial in range(1, 19)]
    sheets.append((19, "spoiled"))
    sheets.append((20, []))  # blank
    return sheets


def test_twenty_sheets_entered_twice_with_two_differences_resolved_and_sealed(app):
    world = ps.paper_world(app)
    _print(app, world, 25)
    _paper_voters(app, world, 20)
    first, second = ps.client_of(app, world.worker), ps.client_of(app, world.worker2)
    batch_id = _new_batch(app, world, first, 20)
    sheets = _twenty_sheets(world)
    a, b, c, d, e = world.ids

    # Entry 1 as the sheets read; entry 2 with two mistakes: other works on 5, spoiled on 7.
    assert _enter(first, world, batch_id, sheets).status_code == 303
    assert _batch(app, batch_id).status == BatchStatus.ENTERING
    page = first.get(ps.batch_url(world, batch_id)).get_data(as_text=True)
    assert "You have entered this batch" in page
    # Entry 2's form shows nothing of entry 1.
    form = second.get(ps.batch_url(world, batch_id, "entry")).get_data(as_text=True)
    serials = re.findall(r'name="serial-\d+"[^>]*?value="([^"]*)"', form)
    assert serials == [""] * 20  # no serial typed in
    assert " checked" not in form
    mistyped = list(sheets)
    mistyped[4] = (5, [a, e])
    mistyped[6] = (7, "spoiled")
    response = _enter(second, world, batch_id, mistyped)
    assert response.status_code == 303
    assert _batch(app, batch_id).status == BatchStatus.RESOLVING

    page = second.get(ps.batch_url(world, batch_id)).get_data(as_text=True)
    assert "Differences between the two entries" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PaperSheet)) == 18
    resolve = ps.batch_url(world, batch_id, "resolve")
    listed = first.get(resolve).get_data(as_text=True)
    assert listed.count('type="radio" id="r') == 6  # 2 differences x 3 choices
    assert "Sheet 5" in listed and "Sheet 7" in listed
    # Sealing before the resolution is refused.
    refused = post_form(
        first, ps.batch_url(world, batch_id, "seal"), {}, form_url=ps.batch_url(world, batch_id)
    )
    assert refused.status_code == 409

    # Sheet 5 reads as entry 1 said; sheet 7 is typed anew (works b and d).
    response = post_form(
        first,
        resolve,
        {
            "resolve-5": "first",
            "resolve-7": "typed",
            "work-r7": [str(b), str(d)],
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _batch(app, batch_id).status == BatchStatus.READY
    resolutions = audit_entries(app, "paper.resolve")
    assert [r.after["serial"] for r in resolutions] == [5, 7]
    assert resolutions[0].before["entry_1"] == {"choices": sorted(sheets[4][1]), "spoiled": False}
    assert resolutions[0].before["entry_2"] == {"choices": sorted([a, e]), "spoiled": False}
    assert resolutions[1].before["entry_2"] == {"choices": [], "spoiled": True}
    assert resolutions[1].after["reading"] == {"choices": sorted([b, d]), "spoiled": False}

    page = first.get(ps.batch_url(world, batch_id)).get_data(as_text=True)
    assert "Voters on this point’s paper list" in page
    sealed = post_form(
        first, ps.batch_url(world, batch_id, "seal"), {}, form_url=ps.batch_url(world, batch_id)
    )
    assert sealed.status_code == 303
    assert _batch(app, batch_id).status == BatchStatus.SEALED
    with app.app_context():
        ballots = list(db.session.scalars(sa.select(Ballot)))
        assert len(ballots) == 20
        assert {b.paper_batch_id for b in ballots} == {batch_id}
        assert len({b.receipt_hash for b in ballots}) == 20
        expected = sorted(
            sorted(m) if m != "spoiled" else [] for _, m in sheets[:6] + [(7, [b, d])] + sheets[7:]
        )
        assert sorted(b.choices for b in ballots) == expected
    [entry] = audit_entries(app, "paper.seal")
    assert entry.after["ballots"] == 20 and entry.after["point_paper_participations"] == 20
    # Sealing twice is refused.
    again = post_form(
        first, ps.batch_url(world, batch_id, "seal"), {}, form_url=ps.batch_url(world, batch_id)
    )
    assert again.status_code == 409


def test_the_same_person_cannot_enter_a_batch_twice(app):
    world = ps.paper_world(app)
    _print(app, world, 3)
    client = ps.client_of(app, world.worker)
    batch_id = _new_batch(app, world, client, 2)
    sheets = [(1, world.ids[:2]), (2, world.ids[1:3])]
    assert _enter(client, world, batch_id, sheets).status_code == 303
    again = client.get(ps.batch_url(world, batch_id, "entry"))
    assert again.status_code == 409
    assert "another staff member" in again.get_data(as_text=True)
    # Forced through the service too (the database's unique key backs it).
    from opdigital.errors import Conflict
    from opdigital.paper.entry import SheetInput, submit_entry

    with app.app_context():
        batch = db.session.get(PaperBatch, batch_id)
        try:
            submit_entry(batch, [SheetInput(1, 1), SheetInput(2, 2)], ps.user(world.worker))
        except Conflict as e:
            assert e.code == "same_person"
        else:
            raise AssertionError("a second entry by the same person was kept")
    # A coordinator may make the second entry; both agree: ready at once.
    coordinator = ps.client_of(app, world.coordinator)
    assert _enter(coordinator, world, batch_id, sheets).status_code == 303
    assert _batch(app, batch_id).status == BatchStatus.READY


def test_entries_that_do_not_fit_the_batch_are_refused(app):
    world = ps.paper_world(app)
    _print(app, world, 4)
    client = ps.client_of(app, world.worker)
    batch_id = _new_batch(app, world, client, 3)
    # Serial 9 was never printed for this point; 2 is typed twice; a row without a serial.
    response = _enter(client, world, batch_id, [(2, world.ids[:2]), (2, []), (9, [])])
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "entered twice in the batch" in text
    assert "not printed for this voting point" in text
    assert _batch(app, batch_id).status == BatchStatus.ENTERING
    # A marking the rule refuses (4 works; 2-3 allowed) is read as spoiled.
    response = _enter(client, world, batch_id, [(1, world.ids[:4]), (2, []), (3, world.ids[:2])])
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "recorded as spoiled" in page
    # A serial already agreed in another batch cannot be counted again.
    other = ps.client_of(app, world.worker2)
    _enter(other, world, batch_id, [(1, "spoiled"), (2, []), (3, world.ids[:2])])
    assert _batch(app, batch_id).status == BatchStatus.READY
    second_batch = _new_batch(app, world, client, 1)
    response = _enter(client, world, second_batch, [(3, world.ids[:2])])
    assert response.status_code == 422
    assert "already counted in another batch" in response.get_data(as_text=True)


def test_sealing_more_sheets_than_paper_voters_is_refused(app):
    world = ps.paper_world(app)
    _print(app, world, 5)
    _paper_voters(app, world, 3)
    first, second = ps.client_of(app, world.worker), ps.client_of(app, world.worker2)
    batch_id = _new_batch(app, world, first, 4)
    sheets = [(n, world.ids[:2]) for n in range(1, 5)]
    _enter(first, world, batch_id, sheets)
    _enter(second, world, batch_id, sheets)
    assert _batch(app, batch_id).status == BatchStatus.READY
    url = ps.batch_url(world, batch_id)
    refused = post_form(first, f"{url}/seal", {}, form_url=url)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "4 paper ballots" in text and "only 3 voters" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0
    assert _batch(app, batch_id).status == BatchStatus.READY


def test_a_batch_sealed_after_the_close_is_sealed_by_the_tally_step(app):
    world = ps.paper_world(app)
    _print(app, world, 2)
    _paper_voters(app, world, 2)
    with app.app_context():
        db.session.get(Cycle, world.cycle_id).state = "closed"
        db.session.commit()
    first, second = ps.client_of(app, world.worker), ps.client_of(app, world.coordinator)
    batch_id = _new_batch(app, world, first, 2)
    sheets = [(1, world.ids[:2]), (2, world.ids[2:4])]
    _enter(first, world, batch_id, sheets)
    _enter(second, world, batch_id, sheets)
    url = ps.batch_url(world, batch_id)
    assert post_form(first, f"{url}/seal", {}, form_url=url).status_code == 303
    with app.app_context():
        cycle = db.session.get(Cycle, world.cycle_id)
        board.seal_all(cycle)  # what the tally step runs first (tally.services.seal_for_count)
        assert board.pending_count(world.cycle_id) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BoardEntry)) == 2
    # Once tallied, no batch can be sealed any more.
    with app.app_context():
        db.session.get(Cycle, world.cycle_id).state = "tallied"
        db.session.commit()
    assert first.get(ps.point_url(world, "batches")).status_code == 200
    refused = post_form(first, ps.point_url(world, "batches"), {"sheet_count": "1"})
    assert refused.status_code == 409


def test_a_poll_worker_of_another_point_cannot_touch_the_batches(app):
    world = ps.paper_world(app)
    _print(app, world, 2)
    batch_id = _new_batch(app, world, ps.client_of(app, world.worker), 1)
    stranger = ps.client_of(app, world.stranger)
    for url in (
        ps.point_url(world, "batches"),
        ps.batch_url(world, batch_id),
        ps.batch_url(world, batch_id, "entry"),
        ps.batch_url(world, batch_id, "resolve"),
    ):
        assert stranger.get(url).status_code == 403, url
    token_page = ps.batch_url(world, batch_id, "entry")
    own = ps.client_of(app, world.worker)
    response = post_form(
        stranger,
        token_page,
        ps.entry_form([(1, world.ids[:2])]),
        form_url=ps.point_url(world, "batches", world.other_point_id),
    )
    assert response.status_code == 403
    assert own.get(token_page).status_code == 200
    assert _batch(app, batch_id).status == BatchStatus.ENTERING
