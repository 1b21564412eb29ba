"""Every paper-ballot page passes the page audit (landmarks, one h1, labelled fields), and
works without JavaScript (plain forms only)."""

from __future__ import annotations

import sqlalchemy as sa

from opdigital.extensions import db
from opdigital.paper.models import PaperSheetRun
from tests.support import paper as ps
from tests.support.client import post_form
from tests.support.pages import PageAudit


def _audit(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.get_data(as_text=True)
    page = PageAudit()
    page.feed(html)
    assert page.problems() == [], url
    assert "<script" not in html, url
    return html


def test_every_paper_page_passes_the_audit(app):
    world = ps.paper_world(app)
    coordinator = ps.client_of(app, world.coordinator)
    worker, worker2 = ps.client_of(app, world.worker), ps.client_of(app, world.worker2)
    post_form(coordinator, ps.point_url(world, "sheets"), {"count": "2"})
    with app.app_context():
        run_id = db.session.scalar(sa.select(PaperSheetRun.id))
    made = post_form(worker, ps.point_url(world, "batches"), {"sheet_count": "2"})
    batch_id = int(made.headers["Location"].rsplit("/", 1)[1])
    entry = ps.batch_url(world, batch_id, "entry")
    post_form(worker, entry, ps.entry_form([(1, world.ids[:2]), (2, [])]))
    post_form(worker2, entry, ps.entry_form([(1, world.ids[:2]), (2, "spoiled")]))

    _audit(coordinator, "/staff/paper/")
    for url in (
        ps.point_url(world),
        ps.point_url(world, "sheets"),
        f"{ps.base(world)}/runs/{run_id}",
        ps.point_url(world, "participation"),
        ps.point_url(world, "batches"),
        ps.batch_url(world, batch_id),
        ps.batch_url(world, batch_id, "resolve"),
    ):
        _audit(worker, url)
    fresh = post_form(coordinator, ps.point_url(world, "batches"), {"sheet_count": "1"})
    _audit(coordinator, fresh.headers["Location"] + "/entry")
    # A poll worker going to /staff/paper lands on their own point.
    response = worker.get("/staff/paper/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(ps.point_url(world))
