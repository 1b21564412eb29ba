"""Only essential cookies, no third-party requests (issue 13, point 6), and the privacy notice in
a real browser: axe-core at desktop and phone sizes, and without JavaScript."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from opdigital.extensions import db
from opdigital.mail.services import queue_test_message
from opdigital.proposals.consent import unsubscribe_token
from opdigital.proposals.models import Proposal
from tests.support import factories
from tests.support.browser import sign_in, violations

pytestmark = pytest.mark.browser

# The session cookie: the only one a citizen's browser gets (the kiosk cookie is set on
# enrolled kiosks only, by a coordinator).
APP_COOKIES = {"session"}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def test_public_pages_request_nothing_from_another_origin(
    app, new_page, live_server, election, counted_cycle
):
    published = counted_cycle(publish=True)
    with app.app_context():
        proposal = db.session.scalar(db.select(Proposal).order_by(Proposal.id).limit(1))
        code, token = proposal.code, unsubscribe_token(proposal)
        db.session.remove()
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    paths = [
        "/",
        f"/ciclos/{election.slug}",
        f"/ciclos/{election.slug}/propostas",
        f"/propostas/{code}",
        f"/ciclos/{published.slug}/quadro",
        f"/ciclos/{published.slug}/resultados",
        f"/ciclos/{election.slug}/votar",
        "/privacidade",
        "/privacidade/pedidos",
        f"/avisos/cancelar/{token}",
    ]
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
    own = _origin(live_server)
    foreign = [url for url in requested if not url.startswith("data:") and _origin(url) != own]
    assert not foreign, f"requests to other origins: {foreign}"
    assert len(requested) >= len(paths)
    cookies = page.context.cookies()
    assert {cookie["name"] for cookie in cookies} <= APP_COOKIES, cookies
    assert all(_origin(live_server)[1].startswith(cookie["domain"]) for cookie in cookies)


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_privacy_page_has_no_serious_violations(new_page, viewport):
    page = new_page(viewport=viewport)
    page.goto("/privacidade")
    assert violations(page, "privacy") == []


def test_privacy_page_works_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    response = page.goto("/privacidade")
    assert response is not None and response.status == 200
    assert page.locator("h1").count() == 1
    assert page.locator("section.privacy-activity").count() >= 10
    page.locator('a[href="#rights"]').click()
    assert page.url.endswith("#rights")
    page.goto("/")
    page.locator("footer a[href='/privacidade']").click()
    page.wait_for_url("**/privacidade")


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_the_staff_privacy_screens_have_no_serious_violations(app, new_page, viewport):
    """The retention plan and the e-mail outbox, for an admin (the request queue has its own
    test, tests/browser/test_subject_requests.py)."""
    with app.app_context():
        admin = factories.user("admin").email
        # Rows on the outbox screen: one waiting, one given up with the server's answer.
        queue_test_message("axe@example.org", "pt_BR")
        failed = queue_test_message("axe.failed@example.org", "en")
        failed.status, failed.attempts = "failed", 8
        failed.last_error = "550 5.1.1 <recipient>: mailbox unavailable"
        db.session.commit()
        db.session.remove()
    page = new_page(viewport=viewport)
    sign_in(page, admin)
    problems: list[str] = []
    for name, path in (("retention", "/staff/retention"), ("outbox", "/staff/outbox/")):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        problems.extend(violations(page, name))
    assert not problems, "\n".join(problems)
