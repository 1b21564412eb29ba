"""axe-core on the kiosk's pages (issue 12, point 2), at phone and desktop sizes, and the kiosk's
layout at 200% text size: a coordinator enrols the browser, a voter votes on it, "next voter".

The whole voting-day flow (three voters, poll workers, paper) is the lead's browser test.
"""

from __future__ import annotations

import pytest

from opdigital.extensions import db
from opdigital.polling.models import PointOpening
from opdigital.voting.models import VotingPoint
from tests.support import factories
from tests.support import voting as vs
from tests.support.browser import sign_in, violations

pytestmark = pytest.mark.browser


def _point_open_for(app, slug: str) -> tuple[int, str]:
    from opdigital.cycles.models import Cycle

    with app.app_context():
        cycle = db.session.scalars(db.select(Cycle).where(Cycle.slug == slug)).one()
        point = VotingPoint(name="Escola Municipal Central")
        db.session.add(point)
        db.session.flush()
        db.session.add(PointOpening(voting_point_id=point.id, cycle_id=cycle.id, is_open=True))
        email = factories.user("coordinator").email
        db.session.commit()
        point_id = point.id
        db.session.remove()
    return point_id, email


def _fits_at_double_text(page) -> bool:
    """True when the page needs no horizontal scrolling with its text at 200%."""
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    fits = page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )
    page.evaluate("document.documentElement.style.fontSize = ''")
    return fits


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_kiosk_pages_have_no_serious_violations(app, new_page, election, viewport):
    point_id, email = _point_open_for(app, election.slug)
    page = new_page(viewport=viewport)
    problems: list[str] = []
    too_wide: list[str] = []

    def check(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(path)
        problems.extend(violations(page, name))
        if not _fits_at_double_text(page):
            too_wide.append(name)

    sign_in(page, email)
    check("kiosk enrolment", f"/staff/voting-points/{point_id}/kiosks")
    page.fill("#label", "Mesa 1")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/quiosque")
    check("kiosk start")

    page.locator(f'main a[href="/ciclos/{election.slug}/votar"]').click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar")
    check("kiosk identify")
    page.fill("#titulo", election.numbers[0])
    page.fill("#birth_date", vs.BIRTH.isoformat())
    page.locator("form.vote-form button[type=submit]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/cedula")
    check("kiosk ballot")
    page.evaluate("document.getElementById('kiosk-idle').showModal()")
    problems.extend(violations(page, "kiosk idle warning"))
    page.keyboard.press("Escape")
    page.check(f"#p-{election.ids[0]}")
    page.check(f"#p-{election.ids[1]}")
    page.locator("button[name=action][value=review]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/revisao")
    check("kiosk review")
    page.locator(f'form[action="/ciclos/{election.slug}/votar/revisao"] button').click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/comprovante")
    check("kiosk receipt")
    assert page.locator("[data-kiosk-print]").is_visible()  # shown by the script
    code = page.locator(".receipt-code").inner_text().split()[-1]

    page.locator("form.kiosk-finish button").click()
    page.wait_for_url("**/quiosque")
    page.go_back()  # the receipt is asked again, finds nothing, and sends the kiosk back
    page.wait_for_load_state()
    assert page.url.endswith("/quiosque") and code not in page.content()
    check("kiosk timed out", "/quiosque/tempo-esgotado")
    assert not problems, "\n".join(problems)
    assert not too_wide, f"horizontal scrolling at 200% text: {too_wide}"
