"""Data-subject requests (LGPD issue 13, point 5), the public side: the form, the person's page,
the code by e-mail (wrong, expired, too many tries, new codes), the rate limits, and answers
that are the same whatever the contact. The encarregado's side: test_subject_requests_staff.py;
the whole way with the scan of every table, export and log: test_subject_requests_scan.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.mail.models import OutboxMessage
from opdigital.subject_requests import codes, contacts, services
from opdigital.subject_requests.models import SubjectRequest
from tests.support import factories
from tests.support.client import english_client, post_form
from tests.support.coordination import post, text
from tests.support.pages import page_problems

FORM = "/privacidade/pedidos"
ANA = "ana.souza@example.org"
PAGE = re.compile(r"^/privacidade/pedidos/([A-Za-z0-9_-]{40,})$")
CODE = re.compile(r"\b(\d{6})\b")


def file(client, kind="access", contact=ANA, details="", **extra):
    return post_form(client, FORM, {"kind": kind, "contact": contact, "details": details} | extra)


def filed(client, **kwargs) -> str:
    """File a request through the form; the token of its page."""
    response = file(client, **kwargs)
    assert response.status_code == 303, text(response)
    match = PAGE.match(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def the_request(token: str) -> SubjectRequest:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(SubjectRequest).where(SubjectRequest.token_hash == codes.token_hash(token))
    )


def mailed_code(request: SubjectRequest) -> str:
    """The code in the latest message queued for the request (its text holds the code until
    the message is sent)."""
    message = db.session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.kind == "subject_request.code")
        .where(OutboxMessage.body_text.contains(request.reference))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return CODE.search(message.body_text).group(1)


def enter(client, token: str, code: str):
    return post(client.application, client, f"{FORM}/{token}/codigo", {"code": code})


def new_code(client, token: str):
    return post(client.application, client, f"{FORM}/{token}/novo-codigo")


@pytest.fixture
def browser(app, english_by_default):
    return english_client(app)


# --- the form -------------------------------------------------------------------------------


def test_the_form_explains_and_labels_everything(app_ctx, browser):
    response = browser.get(FORM)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert page_problems(html) == []
    page = text(response)
    # What may be held, the roll that cannot be read back, the deadline, the code.
    assert "the name you chose to publish" in page
    assert "keyed hash" in page and "nobody, not even the city staff" in page
    assert "within 15 days" in page
    assert "6-digit code" in page
    # The kinds as radio buttons in a fieldset, each with its one-line explanation.
    assert html.count('type="radio"') == 4
    assert "<legend>What do you ask for?" in html
    for n in range(1, 5):
        assert f'for="kind-{n}"' in html and f'aria-describedby="kind-help-{n}"' in html
    assert 'method="post"' in html and "<script" not in html
    assert 'href="/privacidade"' in html


def test_filing_an_email_request_mails_a_code(app_ctx, browser):
    token = filed(browser, kind="access", details="Proposta OPD2026-0001")
    request = the_request(token)
    assert request.status == "awaiting_verification"
    assert re.fullmatch(r"LGPD-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", request.reference)
    assert (request.kind, request.contact, request.contact_kind) == ("access", ANA, "email")
    assert request.details == "Proposta OPD2026-0001"
    assert request.token_hash != token and token not in request.token_hash
    assert request.language == "en"
    (message,) = db.session.scalars(sa.select(OutboxMessage))
    assert (message.kind, message.to_address, message.erase_after_send) == (
        "subject_request.code",
        ANA,
        True,
    )
    code = mailed_code(request)
    assert request.code_hash and code not in request.code_hash
    assert request.code_expires_at - now() <= timedelta(minutes=30)
    assert request.reference in message.subject
    assert f"/privacidade/pedidos/{token}" in message.body_text  # the way back to the page
    entries = list(db.session.scalars(sa.select(AuditEntry)))
    assert [e.action for e in entries] == ["subject_request.create", "subject_request.code_sent"]
    assert all(e.object_id == request.reference for e in entries)
    assert ANA not in str([(e.before, e.after, e.object_id) for e in entries])


def test_the_answers_are_the_same_whatever_the_contact(app_ctx, browser):
    """Nobody can learn from the form whether the city holds data for a contact."""
    cycle = factories.cycle()
    factories.proposal(cycle, contact=ANA, author_name="Ana")
    pages = []
    for contact in (ANA, "nobody@example.org"):
        response = file(browser, contact=contact)
        assert response.status_code == 303
        token = PAGE.match(response.headers["Location"]).group(1)
        request = the_request(token)
        page = text(browser.get(f"{FORM}/{token}")).replace(request.reference, "REF")
        pages.append(page.replace(contacts.masked(contact), "MASKED"))
    assert pages[0] == pages[1]
    # Both got a code, and the same kind of message.
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": ""}, "kind", "Choose what you are asking for."),
        ({"kind": "everything"}, "kind", "Choose what you are asking for."),
        ({"contact": ""}, "contact", "Enter the e-mail address or phone number you gave."),
        ({"contact": "ana@"}, "contact", "Enter an e-mail address or a phone number"),
        ({"contact": "123"}, "contact", "Enter an e-mail address or a phone number"),
        ({"contact": "a" * 150 + "@example.org"}, "contact", "Use at most 160 characters."),
        ({"kind": "correction", "details": "  "}, "details", "Say what should be corrected"),
        ({"details": "x" * 2001}, "details", "Use at most 2000 characters."),
        ({"contact": "ana@example.org\nBcc: x@example.org"}, "contact", "one line"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(app_ctx, browser, data, field, message):
    values = {"kind": "access", "contact": ANA, "details": ""} | data
    response = post_form(browser, FORM, values)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text(response)
    assert f'href="#{field}"' in html  # the summary leads to the field
    assert page_problems(html) == []
    assert db.session.scalar(sa.select(sa.func.count(SubjectRequest.id))) == 0


def test_a_form_without_its_token_is_refused(app_ctx, browser):
    response = browser.post(FORM, data={"kind": "access", "contact": ANA})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(SubjectRequest.id))) == 0


# --- the person's page and the code ---------------------------------------------------------


def test_the_page_of_the_request_is_not_cached_nor_referred(app_ctx, browser):
    token = filed(browser)
    response = browser.get(f"{FORM}/{token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert page_problems(html) == []
    page = text(response)
    assert the_request(token).reference in page
    assert "a***@example.org" in page and ANA not in html  # enough to recognise it, no more
    assert "Keep the address of this page" in page
    assert 'autocomplete="one-time-code"' in html
    for bad in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 300):
        assert browser.get(f"{FORM}/{bad}").status_code == 404


def test_the_right_code_confirms_the_request_and_starts_its_deadline(app_ctx, browser):
    token = filed(browser)
    request = the_request(token)
    code = mailed_code(request)
    response = enter(browser, token, f" {code[:3]} {code[3:]} ")  # spaces are forgiven
    assert response.status_code == 303
    assert response.headers["Location"] == f"{FORM}/{token}"
    request = the_request(token)
    assert request.status == "open" and request.code_hash == ""
    assert request.due_at - request.verified_at == timedelta(days=15)
    page = text(browser.get(f"{FORM}/{token}"))
    assert "your request is confirmed" in page and "What happens now" in page
    # Entering a code again changes nothing.
    again = enter(browser, token, code)
    assert again.status_code == 409 and "already confirmed" in text(again)


def test_wrong_codes_are_counted_and_the_fifth_kills_the_code(app_ctx, browser):
    token = filed(browser)
    code = mailed_code(the_request(token))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        response = enter(browser, token, wrong)
        assert response.status_code == 422
        assert f"You have {left} more tries" in text(response)
        assert response.headers["Cache-Control"] == "no-store"
    response = enter(browser, token, wrong)
    assert response.status_code == 429 and "Too many wrong codes" in text(response)
    # Dead: even the right code no longer works...
    assert enter(browser, token, code).status_code == 429
    assert the_request(token).status == "awaiting_verification"
    # ... but a new one does.
    response = new_code(browser, token)
    assert response.status_code == 303
    assert enter(browser, token, mailed_code(the_request(token))).status_code == 303
    assert the_request(token).status == "open"


@pytest.mark.parametrize("typed", ["", "12345", "abcdef", "1234567", "12 34 5"])
def test_a_code_that_is_not_six_digits_is_refused_without_counting(app_ctx, browser, typed):
    token = filed(browser)
    response = enter(browser, token, typed)
    assert response.status_code == 422
    assert page_problems(response.get_data(as_text=True)) == []
    assert the_request(token).code_attempts == 0


def test_a_code_expires_after_thirty_minutes(app_ctx, browser, time_machine):
    time_machine.move_to(now(), tick=False)
    token = filed(browser)
    code = mailed_code(the_request(token))
    time_machine.shift(timedelta(minutes=31))
    response = enter(browser, token, code)
    assert response.status_code == 422 and "expired" in text(response)
    assert the_request(token).status == "awaiting_verification"


def test_new_codes_replace_the_old_one_a_few_times_only(app_ctx, browser):
    token = filed(browser)
    first = mailed_code(the_request(token))
    for left in (2, 1, 0):
        response = new_code(browser, token)
        assert response.status_code == 303
        page = text(browser.get(f"{FORM}/{token}"))
        assert "A new code was sent" in page
        assert (f"({left} left)" in page) if left else ("No more codes" in page)
    response = new_code(browser, token)
    assert response.status_code == 409 and "No more codes" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 4
    latest = mailed_code(the_request(token))
    if latest != first:  # one chance in a million that they are the same
        assert enter(browser, token, first).status_code == 422
    assert enter(browser, token, latest).status_code == 303


# --- limits -------------------------------------------------------------------------------------


def test_a_contact_gets_a_few_requests_a_day_however_it_is_typed(app_ctx, browser, settings):
    settings(SUBJECT_REQUEST_LIMIT_PER_CONTACT="2 per day")
    filed(browser, contact=ANA)
    filed(browser, contact="  Ana.Souza@EXAMPLE.org ")
    response = file(browser, contact="ANA.SOUZA@example.org")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Several requests were already made for this contact today" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2
    # Another contact is not held back, from the same browser.
    filed(browser, contact="beto@example.org")
    # The store keeps a keyed hash of the contact, never the address.
    from opdigital.extensions import limiter

    keys = limiter.storage.get_connection().keys("*subject-request-contact*")
    assert keys and not any(b"ana" in key.lower() for key in keys)


def test_the_form_is_limited_per_address(app_ctx, browser, settings):
    settings(SUBJECT_REQUEST_LIMIT_PER_IP="2 per hour")
    filed(browser, contact="a@example.org")
    filed(browser, contact="b@example.org")
    response = file(browser, contact="c@example.org")
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert browser.get(FORM).status_code == 200  # reading the form is not counted


def test_code_checks_are_limited_per_address(app_ctx, browser, settings):
    settings(SUBJECT_REQUEST_CODE_LIMIT_PER_IP="3 per hour")
    first, second = filed(browser, contact="a@example.org"), filed(browser, contact="b@example.org")
    assert enter(browser, first, "000000").status_code in (303, 422)
    assert enter(browser, second, "000000").status_code in (303, 422)
    new_code(browser, first)
    assert enter(browser, second, "000000").status_code == 429


# --- retention ----------------------------------------------------------------------------------


def test_unconfirmed_requests_are_deleted_by_the_retention_run(
    app_ctx, browser, runner, time_machine
):
    time_machine.move_to(now(), tick=False)
    unconfirmed = filed(browser, contact="a@example.org")
    confirmed = filed(browser, contact="b@example.org")
    enter(browser, confirmed, mailed_code(the_request(confirmed)))
    by_phone = filed(browser, contact="(31) 99876-5432")
    time_machine.shift(timedelta(hours=23))
    assert services.delete_unverified() == []
    time_machine.shift(timedelta(hours=1, minutes=1))
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert the_request(unconfirmed) is None
    assert the_request(confirmed).status == "open"
    # A phone request waits for the encarregado's call until the answer deadline.
    assert the_request(by_phone) is not None
    time_machine.shift(timedelta(days=15))
    assert runner.invoke(args=["retention", "run"]).exit_code == 0
    assert the_request(by_phone) is None and the_request(confirmed) is not None
    assert runner.invoke(args=["retention", "run"]).exit_code == 0  # nothing more: idempotent
    expired = list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "subject_request.expired")
        )
    )
    assert len(expired) == 2
    runs = list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "retention.run")
            .order_by(AuditEntry.id)
        )
    )
    assert [r.after["unconfirmed_requests_deleted"] for r in runs] == [1, 1, 0]
    assert "99876" not in str([(e.after, e.object_id) for e in expired + runs])


def test_a_dry_run_counts_and_deletes_nothing(app_ctx, browser, time_machine):
    from opdigital.retention import services as retention

    time_machine.move_to(now(), tick=False)
    token = filed(browser)
    time_machine.shift(timedelta(days=2))
    assert retention.run(dry_run=True).requests_deleted == 1
    assert the_request(token) is not None


_ODD = st.one_of(
    st.text(max_size=60),
    st.text(
        st.sampled_from(list("中😀\u202e\u200b\t\r\n\x01\x7f\x85\u2028'\"<>&%;@+()-. 0123456789"))
    ),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "😀", "9"]), st.integers(150, 5000)),
)


@examples(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.one_of(st.sampled_from(["access", "correction", "anonymisation", "deletion"]), _ODD),
    contact=st.one_of(st.just(ANA), st.just("(31) 3277-4000"), _ODD),
    details=_ODD,
)
def test_hostile_input_never_breaks_the_form(app, settings, kind, contact, details):
    """No 500 whatever is sent; a refusal files nothing; what is filed is stored as typed."""
    settings(SUBJECT_REQUEST_LIMIT_PER_IP="100000 per minute")
    settings(SUBJECT_REQUEST_LIMIT_PER_CONTACT="100000 per minute")
    client = app.test_client()
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(SubjectRequest.id)))
    response = post(app, client, FORM, {"kind": kind, "contact": contact, "details": details})
    assert response.status_code in (303, 400, 422), response.status_code
    with app.app_context():
        after = db.session.scalar(sa.select(sa.func.count(SubjectRequest.id)))
        if response.status_code != 303:
            assert after == before
        else:
            request = db.session.scalar(
                sa.select(SubjectRequest).order_by(SubjectRequest.id.desc())
            )
            assert (request.kind, request.contact) == (kind, contact.strip())
            assert request.details == details.strip()
