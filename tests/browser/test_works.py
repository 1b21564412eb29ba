"""The works in a real browser (issue 14): a coordinator places a work on the map, adds a
milestone and a photo; a Comforça member of its region reports on it with a photo and a
coordinator approves the report; the citizen sees it all on the work's page. axe-core on every
new staff and Comforça screen and on the public pages, at desktop and phone sizes.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from opdigital.clock import today_in_city
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.works.models import MonitoringReport, WorkMilestone, WorkPhoto
from tests.support import factories
from tests.support.browser import sign_in, violations
from tests.support.places import region_with

pytestmark = pytest.mark.browser


@pytest.fixture
def work(app):
    """A selected work of a cycle in monitoring, in a region with an outline; its coordinator
    and the region's Comforça member."""
    with app.app_context():
        region = region_with((-44.0, -20.0, -43.9, -19.9), slug="barreiro", name="Barreiro")
        cycle = factories.cycle(slug="op-2024", edition=2024, state="monitoring")
        proposal = factories.proposal(
            cycle,
            code="OPD2024-0001",
            title="Praça do Barreiro",
            status="selected",
            execution_status="in_works",
            region_id=region.id,
        )
        world = {
            "code": proposal.code,
            "coordinator": factories.user("coordinator").email,
            "monitor": factories.user("monitor", region_id=region.id).email,
        }
        db.session.remove()
    return world


def _picture(path: Path) -> Path:
    Image.new("RGB", (900, 600), (40, 120, 60)).save(path, format="JPEG")
    return path


def _submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()


@pytest.mark.parametrize(
    ("viewport", "javascript"),
    [
        ({"width": 1280, "height": 900}, True),
        ({"width": 360, "height": 740}, True),
        ({"width": 360, "height": 740}, False),
    ],
    ids=["desktop", "phone", "phone-without-javascript"],
)
def test_a_work_is_placed_documented_reported_and_shown(
    app, new_page, work, tmp_path, viewport, javascript
):
    code = work["code"]
    problems: list[str] = []

    def new_page_here():
        return new_page(viewport=viewport, java_script_enabled=javascript)

    def audit(page, name: str) -> list[str]:
        # axe-core is a script: without JavaScript the run checks that every step still works.
        return violations(page, name) if javascript else []

    staff = new_page_here()
    sign_in(staff, work["coordinator"])

    # The coordinator places the work (typing; the picker is checked by test_maps.py).
    staff.goto(f"/staff/proposals/{code}")
    staff.fill("form.location-form #latitude", "-19,95")
    staff.fill("form.location-form #longitude", "-43,95")
    _submit(staff, "form.location-form")
    problems += audit(staff, "staff proposal page")

    # Adds a milestone and a photo on the work's evidence screen.
    staff.goto(f"/staff/works/{code}")
    problems += audit(staff, "evidence screen")
    planned = (today_in_city() - timedelta(days=30)).isoformat()
    staff.fill("#milestone-title", "Projeto executivo aprovado")
    staff.fill("#milestone-planned_on", planned)
    _submit(staff, f'form[action="/staff/works/{code}/milestones"]')
    staff.set_input_files("#photo-photo", str(_picture(tmp_path / "obra.jpg")))
    staff.fill("#photo-alt_text", "Operários assentando o piso da praça")
    _submit(staff, f'form[action="/staff/works/{code}/photos"]')
    problems += audit(staff, "evidence screen with a milestone and a photo")

    # The region's Comforça member reports, with a photo, asking for their name to be hidden.
    member = new_page_here()
    sign_in(member, work["monitor"])
    assert member.url.endswith("/comforca")
    problems += audit(member, "Comforça home")
    member.goto(f"/comforca/obras/{code}/relatorio")
    problems += audit(member, "report form")
    member.fill("#body", "Visitamos a obra: o piso está pela metade e a iluminação já chegou.")
    member.set_input_files("#photos-0-image", str(_picture(tmp_path / "visita.jpg")))
    member.fill("#photos-0-alt_text", "Piso da praça pela metade")
    with member.expect_navigation():
        member.locator("main form [type=submit]").click()
    problems += audit(member, "Comforça home with a pending report")

    # The coordinator approves it.
    staff.goto("/staff/reports")
    problems += audit(staff, "moderation queue")
    _submit(staff, 'form[action$="/approve"]')

    # What the public sees.
    citizen = new_page_here()
    citizen.goto(f"/propostas/{code}")
    main = citizen.locator("main").inner_text()
    assert "Projeto executivo aprovado" in main
    assert "o piso está pela metade" in main
    assert citizen.locator('img[alt="Operários assentando o piso da praça"]').count() == 1
    assert citizen.locator('img[alt="Piso da praça pela metade"]').count() == 1
    problems += audit(citizen, "the work's page")
    for path in ("/obras", "/obras/mapa"):
        citizen.goto(path)
        assert code in citizen.locator("main").inner_text(), path
        problems += audit(citizen, path)
    assert not problems, "\n".join(problems)

    with app.app_context():
        proposal = db.session.scalar(sa.select(Proposal).where(Proposal.code == code))
        assert (round(proposal.latitude, 2), round(proposal.longitude, 2)) == (-19.95, -43.95)
        assert db.session.scalar(sa.select(sa.func.count(WorkMilestone.id))) == 1
        (report,) = db.session.scalars(sa.select(MonitoringReport)).all()
        assert report.status == "approved" and not report.show_author_name
        for photo in db.session.scalars(sa.select(WorkPhoto)):
            stored = Image.open(io.BytesIO(photo.image))
            assert stored.format == "JPEG" and not stored.getexif()
        db.session.remove()
