"""A proposer's e-mails (LGPD issue 13, point 4): consent given apart at submission, a message
queued with each change of the proposal in the change's own transaction, and a link in every
message that stops them without signing in (a confirmation page, or one click from the mail
client). The whole way, from the form to the SMTP server, runs last."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.cycles import lifecycle
from opdigital.cycles.states import CycleState
from opdigital.errors import IllegalTransition, ValidationFailed
from opdigital.extensions import db
from opdigital.mail.models import OutboxMessage
from opdigital.mail.sender import send_due
from opdigital.proposals import services
from opdigital.proposals.consent import unsubscribe_token
from opdigital.proposals.models import Proposal
from opdigital.proposals.services import ProposalData, ReviewDecision
from opdigital.retention.services import expire_contacts
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import english_client, post_form
from tests.support.coordination import sign_in, text
from tests.support.pages import page_problems
from tests.support.proposal_form import proposal_form

START = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)  # 00:00 in Belo Horizonte
END = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
VOTING_OPENS = END + timedelta(days=10)
URL = "/ciclos/op-2026/propostas/nova"
ANA = "ana.souza@example.com"
BETO = "beto@example.org"
CONSENT_LABEL = "Send me e-mails about what becomes of this proposal"


def form_data(**overrides) -> dict:
    """The valid form, with Ana's address and her consent."""
    return proposal_form(**({"contact": ANA, "notify_by_email": "y"} | overrides))


@pytest.fixture
def open_cycle(app_ctx, time_machine):
    """An OP Digital cycle open for proposals (a one-project ballot counted greedily within
    R$ 1.5 million), the clock in the middle of its submission phase."""
    time_machine.move_to(START + timedelta(days=3), tick=False)
    return factories.cycle(
        slug="op-2026",
        state="open_for_proposals",
        total_budget_cents=1_500_000_00,
        ballot_rule="one-city-wide",
        counting_rule="greedy",
        phases=[
            ("proposals", START, END),
            ("voting", VOTING_OPENS, VOTING_OPENS + timedelta(days=30)),
        ],
    )


@pytest.fixture
def staff(app_ctx):
    return factories.user("coordinator")


def submit(client, **overrides) -> Proposal:
    response = post_form(client, URL, form_data(**overrides))
    assert response.status_code == 303, text(response)
    db.session.expire_all()
    code = response.headers["Location"].rsplit("/", 1)[1]
    return services.get_proposal(code)


def queued(proposal: Proposal | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if proposal is not None:
        query = query.where(OutboxMessage.proposal_id == proposal.id)
    return list(db.session.scalars(query))


def kinds(proposal: Proposal | None = None) -> list[str]:
    return [m.kind for m in queued(proposal)]


def review(proposal: Proposal, actor, *, accept: bool = True, reason: str = "") -> None:
    services.start_review(proposal, actor)
    decision = ReviewDecision(
        accept=accept,
        technical_opinion="Parecer técnico da Secretaria de Obras.",
        reviewed_cost_cents=1_200_000_00 if accept else None,
        rejection_reason=reason,
    )
    services.review_proposal(proposal, decision, actor)


def link_path(url: str) -> str:
    """The path and query of an absolute link from a message, for the test client."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://localhost:5000"  # PUBLIC_BASE_URL
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def actions(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


# --- consent at submission ---------------------------------------------------------------------


def test_the_consent_is_its_own_unticked_box_with_the_privacy_notice(
    client, open_cycle, english_by_default
):
    page = client.get(URL).get_data(as_text=True)
    box = re.search(r"<input[^>]*name=\"notify_by_email\"[^>]*>", page).group(0)
    assert 'type="checkbox"' in box and "checked" not in box
    assert 'aria-describedby="notify_by_email-hint"' in box
    assert f'<label class="inline-label" for="notify_by_email">{CONSENT_LABEL}</label>' in page
    hint = re.search(r'<p class="hint" id="notify_by_email-hint">(.*?)</p>', page, re.S).group(1)
    assert "stop at any time with the link in each message" in hint
    assert 'href="/privacidade"' in hint
    assert page_problems(page) == []


def test_a_proposal_without_the_box_ticked_sends_nothing(client, open_cycle, staff):
    proposal = submit(client, notify_by_email=None)
    assert (proposal.notify_by_email, proposal.notify_consent_at) == (False, None)
    review(proposal, staff)
    assert queued() == [] and actions("proposal.notify_consent") == []


def test_consent_with_a_phone_is_refused_and_nothing_is_saved(
    client, open_cycle, english_by_default
):
    response = post_form(client, URL, form_data(contact="(31) 3277-4000"))
    assert response.status_code == 422
    page = text(response)
    assert "To receive e-mails, give an e-mail address as your contact" in page
    assert 'href="#notify_by_email"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0
    assert queued() == []
    # The same phone without the box is a valid contact.
    without_box = form_data(contact="(31) 3277-4000", notify_by_email=None)
    assert post_form(client, URL, without_box).status_code == 303
    assert db.session.scalar(sa.select(Proposal.notify_by_email)) is False


def test_consent_is_recorded_in_the_language_of_the_site_and_confirmed(app, open_cycle):
    client = english_client(app)
    proposal = submit(client)
    assert proposal.notify_by_email is True
    assert proposal.notify_consent_at == START + timedelta(days=3)
    assert proposal.notify_language == "en" and proposal.notify_withdrawn_at is None
    (entry,) = actions("proposal.notify_consent")
    assert (entry.object_id, entry.after, entry.before) == (proposal.code, {"language": "en"}, None)
    everything_audited = str(
        [(e.before, e.after) for e in db.session.scalars(sa.select(AuditEntry))]
    )
    assert ANA not in everything_audited

    (message,) = queued()
    assert (message.kind, message.to_address, message.language) == ("proposal.received", ANA, "en")
    assert (message.proposal_id, message.status) == (proposal.id, "queued")
    assert message.subject == f"We received your proposal {proposal.code}"
    assert message.body_text.startswith("Hello, Ana Souza,\n\n")
    assert "we will write to you when it is accepted or rejected" in message.body_text
    assert f"http://localhost:5000/propostas/{proposal.code}?lang=en" in message.body_text
    token = unsubscribe_token(proposal)
    assert message.unsubscribe_url == f"http://localhost:5000/avisos/cancelar/{token}?lang=en"
    assert message.unsubscribe_url in message.body_text


def test_the_service_refuses_consent_without_an_e_mail(open_cycle):
    data = ProposalData(
        title="Reforma da Praça",
        description="Nova iluminação e bancos para a praça do bairro.",
        estimated_cost_cents=1_000_000_00,
        contact="(31) 3277-4000",
        notify_by_email=True,
    )
    with pytest.raises(ValidationFailed) as refused:
        services.submit_proposal(open_cycle, data)
    assert refused.value.code == "notify_needs_email"
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


def test_staff_cannot_consent_for_a_proposer(open_cycle, staff):
    data = ProposalData(
        title="Reforma da Praça",
        description="Nova iluminação e bancos para a praça do bairro.",
        estimated_cost_cents=1_000_000_00,
        contact=ANA,
        notify_by_email=True,
    )
    proposal = services.enter_proposal(open_cycle, data, "assembly", staff)
    assert (proposal.notify_by_email, proposal.notify_consent_at) == (False, None)
    review(proposal, staff)
    assert queued() == []


def test_an_unknown_language_falls_back_to_portuguese(open_cycle):
    data = ProposalData(
        title="Reforma da Praça",
        description="Nova iluminação e bancos para a praça do bairro.",
        estimated_cost_cents=1_000_000_00,
        contact=ANA,
        notify_by_email=True,
        notify_language="xx",
    )
    proposal = services.submit_proposal(open_cycle, data)
    assert proposal.notify_language == "pt_BR"
    assert [m.language for m in queued()] == ["pt_BR"]


# --- a message with each change, in the change's transaction -------------------------------------


def test_the_review_decisions_reach_the_proposer(client, open_cycle, staff):
    accepted = submit(client)
    rejected = submit(client, contact=BETO, author_name="")
    review(accepted, staff)
    review(rejected, staff, accept=False, reason="A praça é de responsabilidade do Estado.")
    assert kinds(accepted) == ["proposal.received", "proposal.accepted"]
    assert kinds(rejected) == ["proposal.received", "proposal.rejected"]
    message = queued(rejected)[-1]
    # Beto used the site in Portuguese: his messages are written in it.
    assert message.to_address == BETO and message.body_text.startswith("Olá,\n\n")
    assert "A praça é de responsabilidade do Estado." in message.body_text
    assert f"/propostas/{rejected.code}" in message.body_text
    # Reviewing again with the same outcome is no news; changing it is.
    review_again = ReviewDecision(
        accept=True, technical_opinion="Novo parecer.", reviewed_cost_cents=1_100_000_00
    )
    services.review_proposal(accepted, review_again, staff)
    services.review_proposal(rejected, review_again, staff)
    assert kinds(accepted) == ["proposal.received", "proposal.accepted"]
    assert kinds(rejected) == ["proposal.received", "proposal.rejected", "proposal.accepted"]


def test_no_message_when_the_change_is_rolled_back(client, open_cycle, staff):
    accepted = submit(client)
    review(accepted, staff)
    submit(client, contact=BETO)  # still waiting for its review: the freeze is refused
    lifecycle.advance(open_cycle, CycleState.UNDER_REVIEW, staff)
    with pytest.raises(IllegalTransition):
        lifecycle.advance(open_cycle, CycleState.BALLOT_FROZEN, staff)
    assert "proposal.on_ballot" not in kinds()
    assert db.session.get(Proposal, accepted.id).status == "accepted"


def test_an_execution_update_saved_twice_is_told_once(app_ctx, staff):
    cycle = factories.cycle(state="tallied")
    proposal = factories.proposal(
        cycle,
        status="selected",
        execution_status="not_started",
        contact=ANA,
        notify_by_email=True,
        notify_language="en",
    )
    services.update_execution(proposal, "tendering", "Edital publicado.", staff)
    services.update_execution(proposal, "tendering", "Edital publicado.", staff)
    services.update_execution(proposal, "tendering", "Edital republicado.", staff)
    messages = queued(proposal)
    assert [m.kind for m in messages] == ["proposal.execution"] * 2
    assert messages[0].subject == f"Works of proposal {proposal.code}: Tendering"
    assert "Edital publicado." in messages[0].body_text
    assert "Edital republicado." in messages[1].body_text


# --- unsubscribing -------------------------------------------------------------------------------


@pytest.fixture
def consented(app_ctx, staff):
    """A proposal under review whose proposer asked for e-mails, one message queued."""
    cycle = factories.cycle(state="under_review")
    proposal = factories.proposal(
        cycle,
        status="under_review",
        contact=ANA,
        notify_by_email=True,
        notify_consent_at=START,
        notify_language="en",
    )
    services.review_proposal(
        proposal,
        ReviewDecision(accept=True, technical_opinion="Viável.", reviewed_cost_cents=None),
        staff,
    )
    assert kinds(proposal) == ["proposal.accepted"]
    return proposal


def unsubscribe_path(proposal: Proposal) -> str:
    return f"/avisos/cancelar/{unsubscribe_token(proposal)}"


def test_opening_the_link_changes_nothing(client, consented, english_by_default):
    response = client.get(unsubscribe_path(consented))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Stop e-mails about a proposal</h1>" in page
    assert consented.code in page and ANA not in page
    form = re.search(r'<form method="post" action="([^"]+)">', page)
    assert form.group(1) == unsubscribe_path(consented)
    assert "csrf_token" not in page  # the token in the address is the authority
    db.session.expire_all()
    assert db.session.get(Proposal, consented.id).notify_by_email is True
    assert kinds(consented) == ["proposal.accepted"]
    assert client.head(unsubscribe_path(consented)).status_code == 200


def test_confirming_stops_the_e_mails_and_cancels_those_not_sent(
    app, consented, staff, english_by_default, time_machine
):
    time_machine.move_to(START + timedelta(days=800), tick=False)  # a link read years later
    client = app.test_client()  # no session, no CSRF token: a click from the e-mail
    response = client.post(unsubscribe_path(consented))
    assert response.status_code == 200
    assert "you will get no more e-mails about this proposal" in text(response)
    db.session.expire_all()
    proposal = db.session.get(Proposal, consented.id)
    assert proposal.notify_by_email is False
    assert proposal.notify_withdrawn_at == START + timedelta(days=800)
    assert proposal.notify_consent_at == START  # the record of the consent stays
    assert queued() == []
    (entry,) = actions("proposal.notify_withdrawn")
    assert (entry.object_id, entry.before, entry.after, entry.actor_email) == (
        proposal.code,
        None,
        None,
        "system",
    )

    # Later changes send nothing; the link keeps answering, and says so.
    lifecycle.advance(proposal.cycle, CycleState.BALLOT_FROZEN, staff)
    assert queued() == []
    again = client.post(unsubscribe_path(proposal))
    assert again.status_code == 200
    assert "there is nothing to stop" in text(again)
    assert "there is nothing to stop" in text(client.get(unsubscribe_path(proposal)))
    assert len(actions("proposal.notify_withdrawn")) == 1


def test_the_pages_are_accessible_and_need_no_script(app, consented):
    client = app.test_client()
    path = unsubscribe_path(consented)
    pages = [client.get(path), client.post(path), client.post(path), client.get(path + "x")]
    assert [page.status_code for page in pages] == [200, 200, 200, 404]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page_problems(html) == [], html
        assert "<script" not in html.split("<main", 1)[1]


def test_one_click_from_the_mail_client(app, consented):
    """RFC 8058: the client POSTs this body to the List-Unsubscribe address, with no cookie."""
    response = app.test_client().post(
        f"{unsubscribe_path(consented)}?lang=en",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Proposal, consented.id).notify_by_email is False


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tampered_link_is_not_found(app, consented, method, english_by_default):
    token = unsubscribe_token(consented)
    other_proposal = factories.proposal(consented.cycle, contact=BETO, notify_by_email=True)
    forged = unsubscribe_token(other_proposal).split(".")[0] + "." + token.split(".")[1]
    client = app.test_client()
    for bad in (forged, token[:-2], "x" * 500, "not-a-token", "MQ"):
        response = client.open(f"/avisos/cancelar/{bad}", method=method)
        assert response.status_code == 404, bad
        assert "This link is not valid" in text(response)
    db.session.expire_all()
    assert db.session.get(Proposal, other_proposal.id).notify_by_email is True
    assert db.session.get(Proposal, consented.id).notify_by_email is True


def test_a_link_of_another_app_secret_is_not_found(app, consented, settings):
    path = unsubscribe_path(consented)
    settings(SECRET_KEY="another secret key, after a rotation")
    assert app.test_client().post(path).status_code == 404


# --- other ways consent ends, and what staff see -------------------------------------------------


def test_erasing_the_contacts_ends_the_consent(consented):
    assert expire_contacts(consented.cycle) == [consented.code]
    db.session.expire_all()
    proposal = db.session.get(Proposal, consented.id)
    assert (proposal.contact, proposal.notify_by_email) == ("", False)
    assert queued() == []


def test_staff_see_whether_the_proposer_asked_for_e_mails(client, consented, staff):
    sign_in(client, staff)
    page = text(client.get(f"/staff/proposals/{consented.code}"))
    assert "E-mails to the proposer Yes, asked for on" in page
    app_client = client.application.test_client()
    app_client.post(unsubscribe_path(consented))
    page = text(client.get(f"/staff/proposals/{consented.code}"))
    assert "E-mails to the proposer No: withdrawn on" in page


# --- the whole way: from the form to the mailbox ------------------------------------------------

CARLA = "carla@example.net"
REASON = "A praça é de responsabilidade do Governo do Estado."


def list_unsubscribe(message) -> str:
    """The address of the List-Unsubscribe header (folded when long)."""
    return "".join(str(message["List-Unsubscribe"]).split()).removeprefix("<").removesuffix(">")


def mailbox(sink, address: str) -> list:
    return [m for m in sink.messages if m["To"] == address]


def test_from_the_form_through_the_vote_to_the_mailbox(
    app, client, open_cycle, staff, mail_sink, signing_key, time_machine
):
    # Ana reads the site in English; Beto and Carla in Portuguese; Davi asks for no e-mail.
    # (One browser whose language is switched: test clients share the test's `g`, and with it
    # the CSRF token of the last form rendered.)
    with client.session_transaction() as session:
        session["lang"] = "en"
    ana = submit(client)
    with client.session_transaction() as session:
        session.pop("lang")
    beto = submit(client, contact=BETO, author_name="Beto")
    carla = submit(client, contact=CARLA, author_name="")
    davi = submit(client, contact="davi@example.com", notify_by_email=None)

    lifecycle.advance(open_cycle, CycleState.UNDER_REVIEW, staff)
    for accepted in (ana, beto, davi):
        review(accepted, staff)
    review(carla, staff, accept=False, reason=REASON)
    lifecycle.advance(open_cycle, CycleState.BALLOT_FROZEN, staff)
    lifecycle.advance(open_cycle, CycleState.VOTING, staff)
    time_machine.move_to(VOTING_OPENS + timedelta(days=1), tick=False)
    # Ana's proposal wins; after it, R$ 300,000.00 is left, too little for Beto's.
    vs.cast_all(client, SimpleNamespace(slug="op-2026"), [[ana.id], [ana.id], [beto.id]])
    lifecycle.advance(vs.reload(open_cycle), CycleState.CLOSED, None)
    lifecycle.advance(vs.reload(open_cycle), CycleState.TALLIED, None)  # as the command does
    ana = db.session.get(Proposal, ana.id)
    services.update_execution(ana, "tendering", "Edital publicado em 2 de maio.", staff)

    report = send_due()
    assert (report.sent, report.retried, report.failed) == (11, 0, 0)
    assert mailbox(mail_sink, "davi@example.com") == []
    assert sorted(set(mail_sink.recipients)) == sorted({ANA, BETO, CARLA})

    code = ana.code
    ana_mail = mailbox(mail_sink, ANA)
    assert [m["Subject"] for m in ana_mail] == [
        f"We received your proposal {code}",
        f"Your proposal {code} was accepted",
        f"Your proposal {code} is on the ballot",
        f"Your proposal {code} was selected",
        f"Works of proposal {code}: Tendering",
    ]
    assert {m["Content-Language"] for m in ana_mail} == {"en"}
    assert "Edital publicado em 2 de maio." in ana_mail[-1].get_content()
    for message in ana_mail:
        body = message.get_content()
        assert f"http://localhost:5000/propostas/{code}?lang=en" in body
        unsubscribe_url = list_unsubscribe(message)
        assert unsubscribe_url in body and "/avisos/cancelar/" in unsubscribe_url
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    beto_mail = mailbox(mail_sink, BETO)
    assert [m["Subject"].split(beto.code)[0] for m in beto_mail] == [
        "Recebemos sua proposta ",
        "Sua proposta ",
        "Sua proposta ",
        "Sua proposta ",
    ]
    assert beto_mail[-1]["Subject"].endswith("não foi escolhida")
    assert {m["Content-Language"] for m in beto_mail} == {"pt-BR"}
    assert f"/propostas/{beto.code}?lang=pt_BR" in beto_mail[-1].get_content()
    carla_mail = mailbox(mail_sink, CARLA)
    assert [m["Subject"] for m in carla_mail] == [
        f"Recebemos sua proposta {carla.code}",
        f"Sua proposta {carla.code} não foi aprovada",
    ]
    assert REASON in carla_mail[-1].get_content()

    # Ana's link: opening it changes nothing; her mail client's one click stops the e-mails.
    public_page = app.test_client().get(
        link_path(f"http://localhost:5000/propostas/{code}?lang=en")
    )
    assert public_page.status_code == 200 and "Tendering" in text(public_page)
    link = link_path(list_unsubscribe(ana_mail[-1]))
    mail_sink.clear()
    confirmation = app.test_client().get(link)
    assert confirmation.status_code == 200 and "Stop the e-mails" in text(confirmation)
    services.update_execution(ana, "in_works", "Obras iniciadas.", staff)
    assert send_due().sent == 1
    assert mail_sink.recipients == [ANA]
    one_click = app.test_client().post(link, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    mail_sink.clear()
    ana = db.session.get(Proposal, ana.id)
    services.update_execution(ana, "done", "Praça entregue.", staff)
    assert send_due().sent == 0
    assert mail_sink.messages == []
