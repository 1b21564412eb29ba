"""Data-subject requests, the encarregado's side: the privacy officer's role (the queue and nothing
else), the queue with its deadlines, the data held for a contact, the phone path with a code
read out, and the actions: anonymise, correct, withdraw consent, answer."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.kiosk import devices
from opdigital.mail.models import OutboxMessage
from opdigital.proposals.models import Proposal
from opdigital.subject_requests import codes, services
from opdigital.subject_requests.models import SubjectRequest
from opdigital.voting.models import VotingPoint
from tests.support import factories
from tests.support.client import assert_access_by_role, english_client, login_as, post_form
from tests.support.coordination import post, text
from tests.support.pages import page_problems
from tests.support.staff_routes import refused_everywhere_but

FORM = "/privacidade/pedidos"
QUEUE = "/staff/privacy/requests"
ANA = "ana.souza@example.org"
PHONE = "(31) 99876-5432"
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def officer(app, english_by_default):
    """A privacy officer signed in (English pages), as plain values and a browser."""
    with app.app_context():
        user = factories.user("privacy_officer")
        person = SimpleNamespace(id=user.id, email=user.email)
    browser = english_client(app)
    login_as(browser, person)
    person.browser = browser
    return person


@pytest.fixture
def held(app_ctx):
    """What the city holds for Ana: two proposals (her address typed differently on each), one
    with consent to e-mails and a message sent and one queued; and someone else's proposal."""
    cycle = factories.cycle(state="open_for_proposals")
    first = factories.proposal(
        cycle,
        author_name="Ana Souza",
        contact=" Ana.Souza@Example.org",
        notify_by_email=True,
        notify_consent_at=now(),
    )
    second = factories.proposal(cycle, author_name="Ana S.", contact=ANA.upper())
    other = factories.proposal(cycle, author_name="Beto", contact="beto@example.org")
    sent = OutboxMessage(
        kind="proposal.received",
        to_address=ANA,
        subject="Recebemos",
        body_text=f"Olá Ana Souza, {first.code}",
        status="sent",
        sent_at=now(),
        proposal_id=first.id,
    )
    queued = OutboxMessage(
        kind="proposal.accepted",
        to_address=" Ana.Souza@Example.org".strip(),
        subject="Aceita",
        body_text="Olá Ana Souza",
        proposal_id=first.id,
    )
    beto = OutboxMessage(
        kind="proposal.received", to_address="beto@example.org", subject="x", body_text="Beto"
    )
    db.session.add_all([sent, queued, beto])
    db.session.commit()
    return SimpleNamespace(
        codes=[first.code, second.code], other=other.code, sent=sent.id, beto=beto.id
    )


def filed(kind="deletion", contact=ANA, details="", language="en") -> SubjectRequest:
    """A request filed through the service, as the form does."""
    data = services.NewRequest(kind=kind, contact=contact, details=details, language=language)
    return services.file_request(data).request


def confirmed(kind="deletion", contact=ANA, details="") -> SubjectRequest:
    """A request filed and confirmed with the code mailed to it."""
    request = filed(kind, contact, details)
    message = db.session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.body_text.contains(request.reference))
        .order_by(OutboxMessage.id.desc())
    )
    services.verify(request, CODE.search(message.body_text).group(1))
    return request


def act(officer, request: SubjectRequest, action: str, data: dict | None = None):
    url = f"{QUEUE}/{request.reference}/{action}"
    return post(officer.browser.application, officer.browser, url, data)


def fresh(request: SubjectRequest) -> SubjectRequest:
    db.session.expire_all()
    return db.session.get(SubjectRequest, request.id)


def proposals(codes_: list[str]) -> list[Proposal]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Proposal).where(Proposal.code.in_(codes_)).order_by("code"))
    )


def audit_text() -> str:
    entries = db.session.scalars(sa.select(AuditEntry))
    return str([(e.object_id, e.before, e.after, e.actor_email) for e in entries])


# --- the role -------------------------------------------------------------------------------


def test_the_queue_is_for_privacy_officers_and_admins(app):
    staff = factories.staff_per_role(app)
    with app.app_context():
        staff["privacy_officer"] = SimpleNamespace(id=factories.user("privacy_officer").id)
        reference = confirmed().reference
    expected = {"admin": 200, "privacy_officer": 200, "coordinator": 403, "auditor": 403}
    for url in (QUEUE, f"{QUEUE}/{reference}"):
        assert_access_by_role(app, url, staff, expected)
    for role in ("coordinator", "auditor"):
        browser = app.test_client()
        login_as(browser, staff[role])
        response = post(app, browser, f"{QUEUE}/{reference}/anonymise")
        assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(SubjectRequest.outcome)) == []


# Endpoints a privacy officer may use: the requests (their queue, and the public pages anyone
# may open), signing in and out.
PRIVACY_OFFICER_PAGES = ("subject_requests.", "accounts.login", "accounts.logout")


def test_a_privacy_officer_is_refused_every_other_staff_screen(app, officer):
    refused, endpoints = refused_everywhere_but(app, officer.browser, PRIVACY_OFFICER_PAGES)
    assert refused == []
    assert {
        "coordination.dashboard",
        "coordination.list_proposals",
        "coordination.proposal",
        "accounts.list_users",
        "accounts.create_user",
        "audit.log",
        "audit.export_csv",
        "polling.dashboard",
        "paper.index",
    } <= endpoints
    # Still signed in throughout: refusals, not sign-outs.
    assert officer.browser.get(QUEUE).status_code == 200


def test_a_privacy_officer_signs_in_to_the_queue(app, app_ctx):
    user = factories.user("privacy_officer")
    browser = english_client(app)
    response = post_form(browser, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == QUEUE
    page = browser.get(QUEUE).get_data(as_text=True)
    assert f'href="{QUEUE}"' in page  # the navigation leads back to it


def test_admins_create_privacy_officer_accounts(app, app_ctx, english_by_default):
    admin = english_client(app)
    login_as(admin, factories.user("admin"))
    form = admin.get("/staff/accounts/new").get_data(as_text=True)
    assert 'value="privacy_officer"' in form and "Privacy officer (encarregado)" in form
    data = {
        "email": "encarregada@pbh.gov.br",
        "name": "Encarregada",
        "role": "privacy_officer",
        "password": "a long enough passphrase",
        "confirm": "a long enough passphrase",
    }
    response = post_form(admin, "/staff/accounts/new", data)
    assert response.status_code == 302, text(response)
    listing = text(admin.get("/staff/accounts"))
    assert "encarregada@pbh.gov.br" in listing
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert entry.after["role"] == "privacy_officer"


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_orders_by_due_date_and_shows_what_is_overdue(app_ctx, officer, time_machine):
    time_machine.move_to(now(), tick=False)
    late = confirmed(kind="access", contact="late@example.org")
    time_machine.shift(timedelta(days=10))
    soon = confirmed(kind="access", contact="soon@example.org")
    answered = confirmed(kind="access", contact="done@example.org")
    waiting = filed(kind="access", contact=PHONE)
    unconfirmed = filed(kind="access", contact="unconfirmed@example.org")
    assert act(officer, answered, "answer", {"answer-answer": "Nada."}).status_code == 303
    time_machine.shift(timedelta(days=6))
    response = officer.browser.get(QUEUE)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert page_problems(html) == []
    page = text(response)
    open_part = page.split("Waiting for a phone call")[0]
    assert open_part.index(late.reference) < open_part.index(soon.reference)
    assert "Overdue by" in open_part and "9 days left" in open_part
    assert 'class="overdue"' in html
    call_part = page.split("Waiting for a phone call")[1].split("Answered")[0]
    assert waiting.reference in call_part
    assert answered.reference in page.split("Answered")[-1]
    assert unconfirmed.reference not in page  # waiting for its own code: nothing to do yet
    for contact in ("late@example.org", PHONE):
        assert contact not in page  # the queue names requests, not people


# --- the phone path -------------------------------------------------------------------------


def test_a_phone_request_is_confirmed_with_a_code_read_out_by_the_officer(app, officer):
    person = english_client(app)
    response = post_form(person, FORM, {"kind": "access", "contact": PHONE, "details": ""})
    assert response.status_code == 303
    page_url = response.headers["Location"]
    with app.app_context():
        request = db.session.scalar(sa.select(SubjectRequest))
        reference = request.reference
        assert request.contact_kind == "phone" and request.codes_sent == 0
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0  # no SMS
    page = text(person.get(page_url))
    assert "the data protection officer will call the number you gave, ending in 5432" in page
    early = post(app, person, f"{page_url}/codigo", {"code": "123456"})
    assert early.status_code == 422 and "There is no code yet" in text(early)

    detail = officer.browser.get(f"{QUEUE}/{reference}")
    assert PHONE in text(detail) and "Generate a code to read by phone" in text(detail)
    assert "Data held for this contact" not in text(detail)  # not before the code is entered
    shown = post(app, officer.browser, f"{QUEUE}/{reference}/phone-code")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    assert page_problems(shown.get_data(as_text=True)) == []
    code = re.search(r"\b(\d{3}) (\d{3})\b", text(shown))
    code = code.group(1) + code.group(2)
    with app.app_context():
        request = db.session.scalar(sa.select(SubjectRequest))
        assert request.code_hash == codes.code_hash(reference, code)
        assert request.code_expires_at - now() > timedelta(hours=23)
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "subject_request.phone_code")
        )
        assert entry.actor_id == officer.id and entry.object_id == reference
        assert "99876" not in str([entry.after, entry.before])
    # The code is not on the request's page afterwards.
    assert code not in officer.browser.get(f"{QUEUE}/{reference}").get_data(as_text=True)
    assert post(app, person, f"{page_url}/codigo", {"code": code}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(SubjectRequest.status)) == "open"
    # The person cannot ask for codes by mail for a phone.
    assert post(app, person, f"{page_url}/novo-codigo").status_code == 409


def test_codes_by_phone_are_for_phone_requests_waiting_for_theirs(app_ctx, officer):
    by_mail = filed(kind="access")
    assert act(officer, by_mail, "phone-code").status_code == 409
    by_phone = filed(contact=PHONE)
    code = services.issue_phone_code(by_phone, None)
    services.verify(by_phone, code)
    assert act(officer, by_phone, "phone-code").status_code == 409


# --- the data held --------------------------------------------------------------------------


def test_the_request_page_shows_the_data_held_for_the_contact(app_ctx, officer, held):
    request = confirmed(kind="access", details="Tudo o que vocês têm")
    response = officer.browser.get(f"{QUEUE}/{request.reference}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert page_problems(html) == []
    page = text(response)
    for code in held.codes:
        assert code in page
    assert held.other not in page and "Beto" not in page
    assert "Ana Souza" in page and "Ana S." in page
    assert "Consent given" in page and "No consent" in page
    assert "2 e-mails in the outbox" in page
    assert "Tudo o que vocês têm" in page
    assert "15 days left" in page
    # The draft answer lists what is held and says the roll cannot be read back.
    draft = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert all(code in draft for code in held.codes)
    assert "keyed hash" in draft and "nobody, not even the city staff" in draft
    assert "Send the answer by e-mail" in page


def test_phones_match_however_they_were_typed(app_ctx, officer):
    cycle = factories.cycle()
    mine = factories.proposal(cycle, contact="+55 31 99876 5432")
    also = factories.proposal(cycle, contact="031998765432")
    factories.proposal(cycle, contact="(31) 99876-5433")
    request = filed(kind="access", contact=PHONE)
    services.verify(request, services.issue_phone_code(request, None))
    page = text(officer.browser.get(f"{QUEUE}/{request.reference}"))
    assert mine.code in page and also.code in page
    assert "99876-5433" not in page


# --- the actions ----------------------------------------------------------------------------


def test_anonymising_erases_the_persons_data_and_keeps_the_proposals(
    app, app_ctx, officer, held, client
):
    request = confirmed(kind="deletion")
    response = act(officer, request, "anonymise")
    assert response.status_code == 303
    assert "Erased: the name and contact of 2 proposals, 2 e-mails" in text(
        officer.browser.get(response.headers["Location"])
    )
    for proposal in proposals(held.codes):
        assert (proposal.author_name, proposal.contact) == ("", "")
        assert not proposal.notify_by_email
    first = proposals(held.codes[:1])[0]
    assert first.notify_withdrawn_at is not None
    # The sent message is blanked, the queued one gone; Beto's untouched.
    sent = db.session.get(OutboxMessage, held.sent)
    assert (sent.to_address, sent.body_text) == ("", "") and sent.erased_at is not None
    kinds = set(db.session.scalars(sa.select(OutboxMessage.kind)))
    assert "proposal.accepted" not in kinds
    assert db.session.get(OutboxMessage, held.beto).to_address == "beto@example.org"
    # The proposals stay public, without the name.
    for code in held.codes:
        public = client.get(f"/propostas/{code}")
        assert public.status_code == 200 and "Ana S" not in public.get_data(as_text=True)
    other = proposals([held.other])[0]
    assert (other.author_name, other.contact) == ("Beto", "beto@example.org")
    assert fresh(request).outcome[0] | {"at": None} == {
        "action": "anonymised",
        "proposals": held.codes,
        "messages_erased": 1,
        "messages_deleted": 1,
        "at": None,
    }
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "subject_request.anonymise")
    )
    assert entry.object_id == request.reference and entry.after["proposals"] == held.codes
    assert "ana" not in audit_text().lower().replace("subject_request", "")


def test_each_action_is_for_its_kind_of_request_once_confirmed(app_ctx, officer, held):
    unconfirmed = filed(kind="deletion")
    for action in ("anonymise", "consent", "answer"):
        response = act(officer, unconfirmed, action, {"answer-answer": "x"})
        assert response.status_code == 409, action
        assert "not confirmed yet" in text(response)
    access = confirmed(kind="access", contact="someone@example.org")
    assert act(officer, access, "anonymise").status_code == 409
    assert act(officer, access, "correct", {"fix-proposal": held.codes[0]}).status_code in (
        409,
        422,
    )
    assert [p.author_name for p in proposals(held.codes)] == ["Ana Souza", "Ana S."]


def test_actions_need_their_csrf_token(app_ctx, officer, held):
    request = confirmed()
    for action in ("anonymise", "consent", "answer", "phone-code", "correct"):
        url = f"{QUEUE}/{request.reference}/{action}"
        assert officer.browser.post(url, data={"answer-answer": "x"}).status_code == 400
    assert proposals(held.codes)[0].author_name == "Ana Souza"


def test_correcting_a_name_and_a_contact(app_ctx, officer, held):
    request = confirmed(kind="correction", details="Meu nome é Ana Maria Souza")
    page = text(officer.browser.get(f"{QUEUE}/{request.reference}"))
    assert "Correct the proposal" in page
    data = {"fix-proposal": held.codes[1], "fix-author_name": "Ana Maria Souza"}
    response = act(officer, request, "correct", data)
    assert response.status_code == 303
    assert proposals([held.codes[1]])[0].author_name == "Ana Maria Souza"
    # A new contact that is a phone ends the e-mail consent.
    data = {"fix-proposal": held.codes[0], "fix-contact": "(31) 3277-4000"}
    assert act(officer, request, "correct", data).status_code == 303
    first = proposals([held.codes[0]])[0]
    assert first.contact == "(31) 3277-4000" and not first.notify_by_email
    # The name removed.
    data = {"fix-proposal": held.codes[1], "fix-remove_name": "y"}
    assert act(officer, request, "correct", data).status_code == 303
    assert proposals([held.codes[1]])[0].author_name == ""
    steps = [(s["action"], s["proposals"], s["fields"]) for s in fresh(request).outcome]
    assert steps == [
        ("corrected", [held.codes[1]], ["author_name"]),
        ("corrected", [held.codes[0]], ["contact"]),
        ("corrected", [held.codes[1]], ["author_name"]),
    ]
    assert "Ana Maria" not in audit_text() and "3277" not in audit_text()


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"fix-proposal": "OTHER"}, 422, "Choose one of the proposals held for this contact."),
        ({"fix-proposal": "FIRST"}, 422, "Give the new name or the new contact."),
        ({"fix-proposal": "FIRST", "fix-contact": "not a contact"}, 422, "Enter an e-mail"),
        ({"fix-proposal": "FIRST", "fix-author_name": "x" * 121}, 422, "at most 120"),
        ({"fix-proposal": "FIRST", "fix-author_name": "Ana\nSouza"}, 422, "one line"),
    ],
)
def test_corrections_refuse_bad_input(app_ctx, officer, held, data, status, message):
    request = confirmed(kind="correction", details="Meu nome")
    chosen = {"OTHER": held.other, "FIRST": held.codes[0]}[data["fix-proposal"]]
    response = act(officer, request, "correct", data | {"fix-proposal": chosen})
    assert response.status_code == status
    assert message in text(response)
    assert page_problems(response.get_data(as_text=True)) == []
    assert [p.author_name for p in proposals(held.codes)] == ["Ana Souza", "Ana S."]


def test_withdrawing_consent(app_ctx, officer, held):
    request = confirmed(kind="access")
    assert act(officer, request, "consent").status_code == 303
    first = proposals(held.codes[:1])[0]
    assert not first.notify_by_email and first.notify_withdrawn_at is not None
    assert first.contact.strip().lower() == ANA  # only the consent goes
    assert "proposal.accepted" not in set(db.session.scalars(sa.select(OutboxMessage.kind)))
    assert fresh(request).outcome[0]["proposals"] == held.codes[:1]


def test_answering_by_email_closes_the_request_and_blanks_it(app_ctx, officer, held):
    request = confirmed(kind="access", details="Quero ver meus dados")
    answer = "Olá,\n\nSegue o que temos: ...\n\nEncarregado"
    response = act(officer, request, "answer", {"answer-answer": answer})
    assert response.status_code == 303 and response.headers["Location"] == QUEUE
    request = fresh(request)
    assert request.status == "answered" and request.answered_at is not None
    assert (request.contact, request.details, request.code_hash) == ("", "", "")
    assert request.handled_by_id == officer.id
    assert request.outcome[-1]["action"] == "answered" and request.outcome[-1]["by"] == "email"
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "subject_request.answer")
    )
    assert message.to_address == ANA and message.erase_after_send
    assert "Segue o que temos" in message.body_text and request.reference in message.subject
    page = text(officer.browser.get(f"{QUEUE}/{request.reference}"))
    assert "Erased when the request was answered" in page and "Quero ver" not in page
    assert "Answered by e-mail." in page
    again = act(officer, request, "answer", {"answer-answer": answer})
    assert again.status_code == 409 and "already answered" in text(again)
    assert "Segue" not in audit_text() and ANA not in audit_text()


def test_answering_by_phone_is_recorded_without_a_message(app_ctx, officer):
    request = filed(kind="access", contact=PHONE)
    services.verify(request, services.issue_phone_code(request, None))
    page = text(officer.browser.get(f"{QUEUE}/{request.reference}"))
    assert "Record the answer given by phone" in page
    response = act(officer, request, "answer", {"answer-answer": "Dito ao telefone."})
    assert response.status_code == 303
    assert fresh(request).contact == "" and fresh(request).outcome[-1]["by"] == "phone"
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


@pytest.mark.parametrize("answer", ["", "   ", "x" * 20_001, "bad \x00 byte", "bell \x07"])
def test_an_answer_must_be_written(app_ctx, officer, answer):
    request = confirmed(kind="access")
    response = act(officer, request, "answer", {"answer-answer": answer})
    assert 400 <= response.status_code < 500
    assert fresh(request).status == "open"


def test_unknown_requests_are_404(app_ctx, officer):
    for url in (f"{QUEUE}/LGPD-XXXX-XXXX", f"{QUEUE}/{'x' * 300}"):
        assert officer.browser.get(url).status_code == 404
    response = post(officer.browser.application, officer.browser, f"{QUEUE}/nope/anonymise")
    assert response.status_code == 404


# --- the privacy notice ---------------------------------------------------------------------


def test_the_notice_leads_to_the_form(app, english_by_default):
    page = app.test_client().get("/privacidade").get_data(as_text=True)
    assert f'href="{FORM}"' in page
    assert "Make a data request" in page
    assert "within 15 days" in page
    assert "keyed hashes that nobody can read back" in page


def test_on_a_kiosk_the_notice_gives_the_address_without_a_link(app, english_by_default):
    """A link would lead a voter out of the vote on a voting point's kiosk."""
    with app.app_context():
        point = VotingPoint(name="CRAS Barreiro")
        db.session.add(point)
        db.session.commit()
        point_id, coordinator = point.id, SimpleNamespace(id=factories.user("coordinator").id)
    kiosk = app.test_client()
    login_as(kiosk, coordinator)
    enrolled = post_form(kiosk, f"/staff/voting-points/{point_id}/kiosks", {"label": "Mesa 1"})
    assert enrolled.status_code == 303
    try:
        page = kiosk.get("/privacidade").get_data(as_text=True)
    finally:
        devices.forget_device()
    assert "kiosk-main" in page
    assert f'href="{FORM}"' not in page
    assert f"http://localhost:5000{FORM}" in page
