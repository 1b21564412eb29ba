"""axe-core on the pages of voting by phone (issue 15, point 6), at desktop and phone sizes, in
English and Portuguese: the public "vote by phone" page with the ballot as a list, the cycle
page with its phone numbers, and the coordinators' switches.

What the pages say is tested in tests/test_phone_web.py; the live server shows the numbers set
in tests/browser/conftest.py.
"""

from __future__ import annotations

import pytest

from opdigital.clock import now
from opdigital.extensions import db
from tests.support import factories
from tests.support import voting as vs
from tests.support.browser import sign_in, violations

pytestmark = pytest.mark.browser


def _phone_cycle(app) -> tuple[str, str]:
    """A cycle voting now with both phone channels on and a frozen ballot of works in two
    regions and one city-wide; its slug and a coordinator's e-mail."""
    with app.app_context():
        world = vs.voting_cycle(phone_voice=True, phone_text=True)
        for name in ("Barreiro", "Venda Nova"):
            region = factories.region(name=name)
            factories.proposal(
                world.cycle,
                status="on_ballot",
                region_id=region.id,
                estimated_cost_cents=850_000_00,
                title=f"Reforma da praça central do bairro, {name}",
            )
        world.cycle.ballot_frozen_at = now()
        db.session.commit()
        email = factories.user("coordinator").email
        slug = world.slug
        db.session.remove()
    return slug, email


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_phone_pages_have_no_serious_violations(app, new_page, viewport):
    slug, email = _phone_cycle(app)
    page = new_page(viewport=viewport)
    problems: list[str] = []
    help_page = f"/ciclos/{slug}/votar-por-telefone"
    for language in ("en", "pt_BR"):
        page.goto(f"/lang/{language}?next=/ciclos/{slug}")
        assert page.locator('a[href="tel:08001234567"]').count() == 1
        problems.extend(violations(page, f"cycle page with phone numbers ({language})"))
        page.locator("#phone-help-link").click()
        page.wait_for_url(f"**{help_page}")
        assert page.locator("li.phone-work").count() == 7  # 5 of the cycle, 2 added
        assert page.locator("table.phone-keys tbody tr").count() == 7
        problems.extend(violations(page, f"vote by phone ({language})"))
    sign_in(page, email)
    page.goto(f"/lang/en?next=/staff/cycles/{slug}/phone")
    assert page.locator("#voice").is_checked()
    problems.extend(violations(page, "phone switches"))
    assert not problems, "\n".join(problems)
