"""Data-subject requests in a real browser: the form, its errors and the person's page pass axe-core
(no serious or critical violation) at desktop and phone sizes, the encarregado's screens too, and
the whole way works without JavaScript: the form, the code, the confirmation."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from opdigital.extensions import db
from opdigital.mail.models import OutboxMessage
from opdigital.subject_requests.models import SubjectRequest
from tests.support import factories
from tests.support.browser import sign_in, violations

pytestmark = pytest.mark.browser

FORM = "/privacidade/pedidos"
PAGE = re.compile(r"/privacidade/pedidos/[A-Za-z0-9_-]{40,}$")


def mailed_code(app, reference: str) -> str:
    """The code in the message queued for the request (the browser suite sends no mail)."""
    with app.app_context():
        body = db.session.scalar(
            sa.select(OutboxMessage.body_text)
            .where(OutboxMessage.body_text.contains(reference))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        db.session.remove()
    return re.search(r"\b(\d{6})\b", body).group(1)


def reference_of(app, contact: str) -> str:
    with app.app_context():
        reference = db.session.scalar(
            sa.select(SubjectRequest.reference).where(SubjectRequest.contact == contact)
        )
        db.session.remove()
    return reference


def fill_and_send(page, kind_label: str, contact: str, details: str = "") -> None:
    page.get_by_label(kind_label, exact=True).check()
    page.fill("#contact", contact)
    if details:
        page.fill("#details", details)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
    ids=["desktop", "phone"],
)
def test_the_form_and_the_persons_page_have_no_serious_violations(new_page, viewport):
    page = new_page(viewport=viewport)
    page.goto(f"/lang/en?next={FORM}")
    assert violations(page, "request form") == []
    # Sent empty: the errors, tied to their fields.
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1
    assert violations(page, "request form with errors") == []
    contact = f"axe-{viewport['width']}@example.org"
    fill_and_send(page, "See my data", contact)
    assert PAGE.search(page.url), page.url
    assert page.locator("#code").count() == 1
    assert violations(page, "the person's page") == []
    # A wrong code: the page with its error.
    page.fill("#code", "12")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert violations(page, "the person's page with an error") == []


def test_a_request_is_made_and_confirmed_without_javascript(app, new_page):
    page = new_page(java_script_enabled=False)
    page.goto(f"/lang/en?next={FORM}")
    fill_and_send(page, "Correct my data", "sem.js@example.org")  # no details: refused
    assert page.locator("#details-error").count() == 1
    assert "/privacidade/pedidos" in page.url and page.locator("#kind-2").is_checked()
    page.fill("#details", "Meu nome na proposta está errado: é Ana Maria.")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert PAGE.search(page.url), page.url
    reference = reference_of(app, "sem.js@example.org")
    assert reference in page.inner_text("main")
    page.fill("#code", mailed_code(app, reference))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    assert "your request is confirmed" in page.inner_text("main")
    assert "What happens now" in page.inner_text("main")
    # A new code, without JavaScript too, on another request.
    page.goto(f"/lang/en?next={FORM}")
    fill_and_send(page, "Delete my data", "outro@example.org")
    page.get_by_role("button", name="Send a new code").click()
    page.wait_for_load_state()
    assert "A new code was sent" in page.inner_text("main")


def test_the_encarregados_screens_have_no_serious_violations(app, new_page):
    with app.app_context():
        officer = factories.user("privacy_officer").email
        db.session.remove()
    person = new_page(java_script_enabled=False)
    person.goto(f"/lang/en?next={FORM}")
    fill_and_send(person, "See my data", "(31) 99876-5432")
    reference = reference_of(app, "(31) 99876-5432")
    page = new_page()
    sign_in(page, officer)
    page.goto("/lang/en?next=/staff/privacy/requests")
    assert violations(page, "queue") == []
    page.locator(f'a[href="/staff/privacy/requests/{reference}"]').first.click()
    page.wait_for_load_state()
    assert violations(page, "request waiting for a call") == []
    page.get_by_role("button", name="Generate a code to read by phone").click()
    page.wait_for_load_state()
    code = re.search(r"\b(\d{3}) (\d{3})\b", page.inner_text("main"))
    assert violations(page, "code to read") == []
    person.fill("#code", "".join(code.groups()))
    person.get_by_role("button", name="Confirm").click()
    person.wait_for_load_state()
    page.goto(f"/staff/privacy/requests/{reference}")
    assert "Data held for this contact" in page.inner_text("main")
    assert violations(page, "open request") == []
