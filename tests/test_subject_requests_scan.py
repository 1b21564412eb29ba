"""The whole way of a data-subject request, and what is left afterwards (issue 13, point 5, "done").

A proposer gives an e-mail address (another a phone number) with proposals; messages are sent
to them through a real SMTP server; one of their proposals is on a ballot that is voted on,
tallied and published. The person then asks for their data to go, confirms the request with
the code, and the encarregado erases the data and answers. Afterwards no table, no export and
no log line holds the address or the number, however typed, while the proposals stay public.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opdigital.accounts.models import User
from opdigital.extensions import db
from opdigital.mail.sender import send_due
from opdigital.proposals import services as proposal_services
from opdigital.proposals.models import Proposal
from opdigital.proposals.services import ReviewDecision
from opdigital.subject_requests.models import SubjectRequest
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import english_client, login_as, post_form
from tests.support.coordination import post, text
from tests.support.scan import holds, logs_holding, tables_holding

FORM = "/privacidade/pedidos"
QUEUE = "/staff/privacy/requests"
EMAIL = "Ana.Souza@Example.org"  # as the proposer typed it
PHONE = "(31) 99876-5432"
PHONE_DIGITS = "31998765432"
NAME = "Ana Beatriz Souza"
OTHER = "beto@example.net"
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def world(app, signing_key, mail_sink, tmp_path):
    """A cycle open for proposals, a cycle being voted on (its proposals entered by staff), and
    staff. Plain values: the flow runs its requests outside any shared application context, as
    browsers do (each request its own context, its own CSRF token)."""
    with app.app_context():
        cycle = factories.cycle(
            state="open_for_proposals",
            phases=[
                ("proposals", vs.now() - vs.timedelta(days=1), vs.now() + vs.timedelta(days=9))
            ],
        )
        voting = vs.voting_cycle()
        people = {
            role: SimpleNamespace(id=user.id, email=user.email)
            for role, user in (
                (role, factories.user(role))
                for role in ("coordinator", "privacy_officer", "auditor", "admin")
            )
        }
        return SimpleNamespace(
            slug=cycle.slug,
            voting_slug=voting.slug,
            voting_ids=voting.ids,
            voting_codes=[p.code for p in voting.proposals],
            people=people,
            package=tmp_path / "tally.zip",
        )


def submit(client, slug: str, title: str, contact: str, consent: bool, name: str = NAME) -> str:
    data = {
        "title": title,
        "description": "Nova iluminação, bancos e acessibilidade para a praça inteira.",
        "region": "",
        "place": "Praça Rui Barbosa",
        "estimated_cost": "1.250.000,00",
        "author_name": name,
        "contact": contact,
    }
    if consent:
        data["notify_by_email"] = "y"
    response = post_form(client, f"/ciclos/{slug}/propostas/nova", data)
    assert response.status_code == 303, text(response)
    return response.headers["Location"].rsplit("/", 1)[-1]


def propose_and_vote(app, world, contact: str, consent: bool) -> list[str]:
    """The person's proposals: two through the form, one entered by staff on the ballot that
    is voted on, tallied and published; with messages sent. Their codes."""
    citizen = english_client(app)
    codes = [
        submit(citizen, world.slug, "Reforma da Praça da Estação", contact, consent),
        submit(citizen, world.slug, "Iluminação da Rua da Bahia", contact, consent),
    ]
    submit(citizen, world.slug, "Quadra poliesportiva do bairro", OTHER, True, "Beto Lima")
    with app.app_context():
        coordinator = db.session.get(User, world.people["coordinator"].id)
        first = proposal_services.get_proposal(codes[0])
        proposal_services.start_review(first, coordinator)
        decision = ReviewDecision(
            accept=True, technical_opinion="Parecer técnico.", reviewed_cost_cents=1_200_000_00
        )
        proposal_services.review_proposal(first, decision, coordinator)
        on_ballot = proposal_services.get_proposal(world.voting_codes[0])
        on_ballot.author_name, on_ballot.contact = NAME, contact.lower()
        db.session.commit()
        codes.append(on_ballot.code)
        a, b, c = world.voting_ids[:3]
        voting = SimpleNamespace(slug=world.voting_slug)
        vs.cast_all(app.test_client(), voting, [[a, b], [a, c], [b, c]], 4300)
    runner = app.test_cli_runner()
    for args in (
        ["cycle", "close", world.voting_slug],
        ["tally", world.voting_slug, "--out", str(world.package)],
        ["cycle", "publish", world.voting_slug],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert send_due().sent >= 1
    return codes


def signed_in(app, person):
    browser = english_client(app)
    login_as(browser, person)
    return browser


def erase_and_answer(app, browser, reference: str) -> str:
    """The encarregado erases the person's data and sends the draft answer; its text."""
    page = text(browser.get(f"{QUEUE}/{reference}"))
    assert NAME in page  # the data held, shown to the encarregado
    assert post(app, browser, f"{QUEUE}/{reference}/anonymise").status_code == 303
    html = browser.get(f"{QUEUE}/{reference}").get_data(as_text=True)
    draft = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", html, re.S).group(1)
    answer = draft.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    response = post(app, browser, f"{QUEUE}/{reference}/answer", {"answer-answer": answer})
    assert response.status_code == 303, text(response)
    return answer


# --- what is scanned ------------------------------------------------------------------------


def _unzipped(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
        )


def exports(app, world, codes: list[str]) -> dict[str, str]:
    """Every export and staff page that could show a proposer's data, by name."""
    found = {}
    runner = app.test_cli_runner()
    for output in ("json", "csv"):
        result = runner.invoke(args=["privacy", "export", "--format", output])
        assert result.exit_code == 0, result.output
        found[f"privacy export {output}"] = result.output
    auditor = signed_in(app, world.people["auditor"])
    for url in ("/audit/export.csv", "/audit/export.json", "/audit/"):
        response = auditor.get(url)
        assert response.status_code == 200, url
        found[url] = response.get_data(as_text=True)
        response.close()
    public = app.test_client()
    voting = world.voting_slug
    for url in (
        f"/api/v1/cycles/{world.slug}/proposals",
        f"/api/v1/cycles/{voting}/proposals",
        f"/api/v1/cycles/{voting}/results",
        f"/ciclos/{voting}/resultados.csv",
        f"/ciclos/{voting}/resultados.pb",
        f"/ciclos/{world.slug}/propostas",
        *[f"/propostas/{code}" for code in codes],
    ):
        response = public.get(url)
        assert response.status_code == 200, url
        found[url] = response.get_data(as_text=True)
    package = public.get(f"/api/v1/cycles/{voting}/tally.zip")
    assert package.status_code == 200
    found["tally package"] = _unzipped(package.get_data())
    found["tally package file"] = _unzipped(world.package.read_bytes())
    admin = signed_in(app, world.people["admin"])
    for url in (
        f"/staff/cycles/{world.slug}/proposals",
        f"/staff/cycles/{voting}/proposals",
        *[f"/staff/proposals/{code}" for code in codes],
        "/staff/outbox/",
        "/staff/retention",
        QUEUE,
    ):
        response = admin.get(url)
        assert response.status_code == 200, url
        found[url] = response.get_data(as_text=True)
    return found


def exports_holding(app, world, codes, needles: list[str]) -> list[str]:
    return [
        f"{name}: {needle}"
        for name, content in exports(app, world, codes).items()
        for needle in holds(content, needles)
    ]


def assert_public_and_anonymous(app, codes: list[str]) -> None:
    client = app.test_client()
    for code in codes:
        with app.app_context():
            proposal = db.session.scalar(sa.select(Proposal).where(Proposal.code == code))
            title = proposal.title
            held = (proposal.author_name, proposal.contact, proposal.notify_by_email)
        assert held == ("", "", False), code
        page = client.get(f"/propostas/{code}")
        assert page.status_code == 200
        assert title in page.get_data(as_text=True)


def the_reference(app) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(SubjectRequest.reference))


def deliver(app) -> int:
    with app.app_context():
        return send_due().sent


# --- the two ways ---------------------------------------------------------------------------


def test_an_email_subject_leaves_no_trace(app, world, mail_sink, logs):
    logging.getLogger("opdigital.tests").debug("capture-control")
    codes = propose_and_vote(app, world, EMAIL, consent=True)
    assert EMAIL.lower() in [r.lower() for r in mail_sink.recipients]
    assert tables_holding(app, [EMAIL])  # the scan finds the address while it is held

    person = english_client(app)
    response = post_form(
        person, FORM, {"kind": "deletion", "contact": "  ana.souza@EXAMPLE.org ", "details": ""}
    )
    assert response.status_code == 303
    page = response.headers["Location"]
    assert deliver(app) == 1
    code_mail = mail_sink.messages[-1]
    assert code_mail["To"].lower() == EMAIL.lower()
    code = CODE.search(code_mail.get_content()).group(1)
    assert post(app, person, f"{page}/codigo", {"code": code}).status_code == 303
    reference = the_reference(app)

    officer = signed_in(app, world.people["privacy_officer"])
    answer = erase_and_answer(app, officer, reference)
    assert all(code in answer for code in codes)
    mail_sink.clear()
    assert deliver(app) == 1
    (delivered,) = mail_sink.messages
    assert delivered["To"].lower() == EMAIL.lower() and reference in delivered["Subject"]
    assert "keyed hash" in delivered.get_content()
    assert "answered" in text(person.get(page)).lower()

    needles = [EMAIL, "ana.souza@example", NAME]
    assert tables_holding(app, needles) == []
    assert exports_holding(app, world, codes, needles) == []
    assert any(r.getMessage() == "capture-control" for r in logs.records)
    assert any(r.name == "opdigital.mail.sender" for r in logs.records)  # the capture works
    assert logs_holding(logs.records, needles) == []
    assert_public_and_anonymous(app, codes)
    assert tables_holding(app, [OTHER])  # someone else's data is untouched


def test_a_phone_subject_leaves_no_trace(app, world, mail_sink, logs):
    logging.getLogger("opdigital.tests").debug("capture-control")
    codes = propose_and_vote(app, world, PHONE, consent=False)
    assert tables_holding(app, [PHONE_DIGITS]) and tables_holding(app, [PHONE])

    person = english_client(app)
    data = {"kind": "anonymisation", "contact": "+55 31 9 9876 5432", "details": ""}
    response = post_form(person, FORM, data)
    assert response.status_code == 303
    page = response.headers["Location"]
    reference = the_reference(app)

    officer = signed_in(app, world.people["privacy_officer"])
    shown = post(app, officer, f"{QUEUE}/{reference}/phone-code")
    code = "".join(re.search(r"\b(\d{3}) (\d{3})\b", text(shown)).groups())
    assert post(app, person, f"{page}/codigo", {"code": code}).status_code == 303
    erase_and_answer(app, officer, reference)
    assert deliver(app) == 0  # an answer by phone is no e-mail

    needles = [PHONE, PHONE_DIGITS, "99876-5432", NAME]
    assert tables_holding(app, needles) == []
    assert exports_holding(app, world, codes, needles) == []
    assert any(r.getMessage() == "capture-control" for r in logs.records)
    assert logs_holding(logs.records, needles) == []
    assert_public_and_anonymous(app, codes)
