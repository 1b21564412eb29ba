"""axe-core on the pages citizens and staff see: no serious or critical violation.

Minor and moderate findings are printed (run with -s to read them) but do not fail the run.
Every page is checked before the test fails, so one run lists every problem.
"""

from __future__ import annotations

import pytest

from opdigital.extensions import db
from opdigital.voting.views.qr import receipt_lookup_url
from tests.support import factories
from tests.support import voting as vs
from tests.support.browser import violations

pytestmark = pytest.mark.browser


def test_axe_finds_what_it_must(page):
    """The check itself works: a field without a label and grey-on-white text are caught."""
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<h1>Broken</h1><input type="text"><p style="color:#ccc">faint</p></main></body></html>'
    )
    found = " ".join(violations(page, "broken"))
    assert "label" in found and "color-contrast" in found


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_public_and_staff_pages_have_no_serious_violations(
    app, new_page, live_server, election, counted_cycle, viewport
):
    page = new_page(viewport=viewport)
    published = counted_cycle(publish=True)
    with app.app_context():
        auditor = factories.user("auditor").email
        db.session.remove()
    problems: list[str] = []

    def check(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(path)
        problems.extend(violations(page, name))

    check("home", "/")
    check("cycle", f"/ciclos/{election.slug}")
    check("identify", f"/ciclos/{election.slug}/votar")
    page.fill("#titulo", election.numbers[0])
    page.fill("#birth_date", vs.BIRTH.isoformat())
    page.locator("form.vote-form button[type=submit]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/cedula")
    check("ballot")
    page.check(f"#p-{election.ids[0]}")  # a refused ballot: the error summary too
    page.locator("button[name=action][value=check]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/cedula")
    check("ballot with problems")
    page.check(f"#p-{election.ids[1]}")
    page.locator("button[name=action][value=review]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/revisao")
    check("review")
    page.locator(f'form[action="/ciclos/{election.slug}/votar/revisao"] button').click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/comprovante")
    check("receipt")
    code = page.locator(".receipt-code").inner_text().split()[-1]
    page.goto(receipt_lookup_url(live_server, election.slug, code))
    page.locator("#receipt-status").wait_for()  # the page's script looks the code up (POST)
    check("board receipt")
    check("receipt lookup", f"/ciclos/{election.slug}/comprovante")
    page.fill("#codigo", "AAAA-BBBB-CCCC-DDDD")
    with page.expect_navigation():
        page.locator(".lookup-form button[type=submit]").click()
    check("unknown receipt")
    check("board", f"/ciclos/{election.slug}/quadro")
    check("results", f"/ciclos/{published.slug}/resultados")
    check("works list", "/obras")
    check("login", "/login")
    page.fill("#email", auditor)
    page.fill("#password", factories.PASSWORD)
    page.locator("main form #submit").click()
    page.wait_for_load_state()
    check("audit log", "/audit/")
    check("tally packages", "/audit/tallies")
    check("english home", "/lang/en?next=/")
    assert not problems, "\n".join(problems)
