"""Printed paper ballot sheets: serials per cycle, never shared between runs."""

from __future__ import annotations

import re

import sqlalchemy as sa

from opdigital.extensions import db
from opdigital.paper.models import PaperSheetRun
from opdigital.paper.printing import SheetChoice, print_sheets
from tests.support import paper as ps
from tests.support.client import at_once, post_form
from tests.support.polling import audit_entries

SERIAL = re.compile(r"Sheet No\. (\d{6})")


def _runs(app) -> list[tuple[int, int]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(PaperSheetRun.first_serial, PaperSheetRun.count).order_by(
                PaperSheetRun.first_serial
            )
        )
        return [(first, first + count - 1) for first, count in rows]


def test_a_poll_worker_prints_sheets_with_serials_one_per_page(app):
    world = ps.paper_world(app)
    client = ps.client_of(app, world.worker)
    response = post_form(client, ps.point_url(world, "sheets"), {"count": "3"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert SERIAL.findall(text) == ["000001", "000002", "000003"]
    assert text.count('class="paper-sheet"') == 3
    assert "css/paper.css" in text  # the print stylesheet: one sheet per page
    for proposal_id in world.ids:  # every work of the (city-wide) ballot, with its number
        assert f"<strong>{world.ids.index(proposal_id) + 1}</strong>" in text
    assert "Mark from 2 to 3 works." in text
    [entry] = audit_entries(app, "paper.print")
    assert entry.after["first_serial"] == 1 and entry.after["last_serial"] == 3
    assert entry.actor_email == world.worker.email


def test_two_runs_never_share_a_serial_even_at_the_same_moment(app):
    world = ps.paper_world(app)
    post_form(ps.client_of(app, world.coordinator), ps.point_url(world, "sheets"), {"count": "5"})

    def ready():
        context = app.app_context()
        context.push()
        return context

    def go(context):
        try:
            from opdigital.cycles.models import Cycle

            cycle = db.session.get(Cycle, world.cycle_id)
            run = print_sheets(cycle, world.point_id, 7, SheetChoice(), ps.user(world.worker))
            return run.id
        finally:
            db.session.remove()
            context.pop()

    made = at_once(8, ready, go)
    assert len(made) == 8
    ranges = _runs(app)
    assert len(ranges) == 9
    serials = [s for first, last in ranges for s in range(first, last + 1)]
    assert len(serials) == len(set(serials)) == 5 + 8 * 7
    assert serials == list(range(1, 62))


def test_printing_needs_a_frozen_ballot(app):
    world = ps.paper_world(app)
    with app.app_context():
        from opdigital.cycles.models import Cycle

        db.session.get(Cycle, world.cycle_id).state = "under_review"
        db.session.commit()
    client = ps.client_of(app, world.coordinator)
    response = post_form(client, ps.point_url(world, "sheets"), {"count": "3"})
    assert response.status_code == 409
    assert "once the ballot is frozen" in response.get_data(as_text=True)
    assert _runs(app) == []


def test_bad_counts_are_refused_with_a_message(app):
    world = ps.paper_world(app)
    client = ps.client_of(app, world.worker)
    for count in ("0", "501", "abc"):
        response = post_form(client, ps.point_url(world, "sheets"), {"count": count})
        assert response.status_code == 422
    assert _runs(app) == []


def test_a_poll_worker_of_another_point_cannot_print_for_this_one(app):
    world = ps.paper_world(app)
    client = ps.client_of(app, world.stranger)
    assert client.get(ps.point_url(world, "sheets")).status_code == 403
    assert client.get(ps.point_url(world)).status_code == 403
    # Their own point works.
    assert client.get(ps.point_url(world, "sheets", world.other_point_id)).status_code == 200
    post_form(ps.client_of(app, world.worker), ps.point_url(world, "sheets"), {"count": "2"})
    with app.app_context():
        run_id = db.session.scalar(sa.select(PaperSheetRun.id))
    assert client.get(f"{ps.base(world)}/runs/{run_id}").status_code == 403


def test_auditors_and_anonymous_visitors_are_kept_out(app):
    world = ps.paper_world(app)
    anonymous = app.test_client().get(ps.point_url(world, "sheets"))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    with app.app_context():
        from tests.support import factories

        auditor = factories.user("auditor")
        auditor = type("P", (), {"id": auditor.id})
    assert ps.client_of(app, auditor).get(ps.point_url(world, "sheets")).status_code == 403
