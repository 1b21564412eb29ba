"""axe-core on the delegate pages (issue 12, point 5), at phone and desktop sizes: the roll, a
delegate's form, the printed slips with their one-time codes, and the public Comforça list.

The Regional Forum's vote by code is tested end to end in tests/test_delegates.py.
"""

from __future__ import annotations

import pytest

from opdigital.delegates.models import Delegate
from opdigital.extensions import db
from opdigital.registry.models import delegate_scope
from tests.support import factories
from tests.support.browser import sign_in, violations

pytestmark = pytest.mark.browser


def _forum(app) -> tuple[str, str]:
    """A published OP Regional cycle taking its roll from its delegates (two delegates and a
    Comforça member of one region); its slug and a coordinator's e-mail."""
    with app.app_context():
        region = factories.region(slug="barreiro-axe", name="Barreiro")
        cycle = factories.cycle(kind="op-regional", title="Fórum Regional 2027", state="voting")
        cycle.registry_scope = delegate_scope(cycle.id)
        for name, role in (
            ("Maria das Dores", "delegate"),
            ("José Aparecido", "delegate"),
            ("Conceição Lima", "comforca"),
        ):
            db.session.add(Delegate(cycle_id=cycle.id, name=name, role=role, region_id=region.id))
        email = factories.user("coordinator").email
        db.session.commit()
        slug = cycle.slug
        db.session.remove()
    return slug, email


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_delegate_pages_have_no_serious_violations(app, new_page, viewport):
    slug, email = _forum(app)
    page = new_page(viewport=viewport)
    sign_in(page, email)
    problems: list[str] = []
    roll = f"/staff/cycles/{slug}/delegates"
    for name, path in (("delegate roll", roll), ("new delegate", f"{roll}/new")):
        page.goto(path)
        problems.extend(violations(page, name))
    page.goto(roll)
    page.locator(f'main form[action="{roll}/codes"] button[type=submit]').click()
    page.wait_for_load_state()
    assert page.locator("code.slip-code").count() == 2
    problems.extend(violations(page, "delegate slips"))
    page.goto(f"/ciclos/{slug}")
    assert "Conceição Lima" in page.content()
    problems.extend(violations(page, "public cycle page with Comforça"))
    assert not problems, "\n".join(problems)
