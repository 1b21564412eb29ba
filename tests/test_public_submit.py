"""The citizen's proposal form: phase window edges, validation, CSRF, rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import session
from flask_wtf.csrf import generate_csrf

from opdigital.audit.models import AuditEntry
from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalHistory
from opdigital.proposals.services import ProposalData, submit_proposal
from tests.support import factories
from tests.support.client import csrf_token, post_form
from tests.support.proposal_form import proposal_form

ONE_LINE = "Write this on one line, without line breaks, tabs or control characters."
NO_CONTROL = "Remove the invisible control characters from this text (line breaks are fine)."
START = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)  # 00:00 in Belo Horizonte
END = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
URL = "/ciclos/op-2026/propostas/nova"


def html(response) -> str:
    return response.get_data(as_text=True)


def proposal_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Proposal.id)))


# These tests read English text; test_i18n checks the Portuguese default.
pytestmark = pytest.mark.usefixtures("english_by_default")


@pytest.fixture
def open_cycle(app_ctx, time_machine):
    """An OP Digital cycle open for proposals, the clock in the middle of its phase."""
    time_machine.move_to(START + timedelta(days=3), tick=False)
    region = factories.region(slug="venda-nova", name="Venda Nova")
    cycle = factories.cycle(
        slug="op-2026",
        kind="op-digital",
        edition=2026,
        state="open_for_proposals",
        phases=[
            ("proposals", START, END),
            ("voting", END + timedelta(days=10), END + timedelta(days=40)),
        ],
    )
    return {"cycle": cycle, "region": region}


def valid_data(**overrides) -> dict:
    return proposal_form(**overrides)


def test_form_shows_accessible_fields(client, open_cycle):
    response = client.get(URL)
    assert response.status_code == 200
    page = html(response)
    for field_id in ("title", "description", "region", "place", "estimated_cost", "author_name"):
        assert f'<label for="{field_id}">' in page
    assert 'id="contact-hint"' in page and "never published" in page
    assert "The whole city (no specific region)" in page and "Venda Nova" in page
    assert 'name="school"' not in page  # OPCA only
    assert 'name="csrf_token"' in page


def test_open_phase_accepts_a_proposal(client, open_cycle):
    region_id = open_cycle["region"].id
    response = post_form(client, URL, valid_data(region=str(region_id)))
    assert response.status_code == 303
    assert response.headers["Location"] == "/propostas/OPD2026-0001"

    db.session.expire_all()
    proposal = db.session.scalar(sa.select(Proposal))
    assert proposal.code == "OPD2026-0001"
    assert proposal.status == "submitted" and proposal.origin == "citizen"
    assert proposal.region_id == region_id
    assert proposal.estimated_cost_cents == 1_250_000_00
    assert proposal.contact == "ana.souza@example.com"
    history = db.session.scalars(sa.select(ProposalHistory)).all()
    assert [(h.proposal_id, h.to_status) for h in history] == [(proposal.id, "submitted")]
    audit = db.session.scalars(sa.select(AuditEntry)).all()
    assert [(a.action, a.object_id) for a in audit] == [("proposal.create", "OPD2026-0001")]

    page = html(client.get(response.headers["Location"]))
    assert "OPD2026-0001" in page and "Thank you!" in page
    assert "Reforma da Praça da Estação" in page
    assert "ana.souza@example.com" not in page


def test_city_wide_proposal_in_op_digital(client, open_cycle):
    response = post_form(client, URL, valid_data(region=""))
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Proposal)).region_id is None


def test_name_is_optional_and_text_is_escaped(client, open_cycle):
    data = valid_data(author_name="", title="<script>alert(1)</script> Praça")
    response = post_form(client, URL, data)
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Praça" in page
    assert "Proposed by" not in page


def test_phone_contact_is_accepted(client, open_cycle):
    response = post_form(client, URL, valid_data(contact="(31) 3277-4000"))
    assert response.status_code == 303


def test_accepted_at_phase_start(client, open_cycle, time_machine):
    time_machine.move_to(START, tick=False)
    assert post_form(client, URL, valid_data()).status_code == 303
    assert proposal_count() == 1


def test_refused_at_phase_end(client, open_cycle, time_machine):
    token = csrf_token(client, URL)  # the form was loaded while the phase was open
    time_machine.move_to(END, tick=False)
    response = client.post(URL, data={"csrf_token": token, **valid_data()})
    assert response.status_code == 403
    assert "This cycle is not accepting proposals now." in html(response)
    assert proposal_count() == 0
    # The page explains when the phase ran, in the city's time.
    page = html(client.get(URL))
    assert "Proposals are not being accepted" in page
    assert "and is now closed" in page
    assert 'datetime="2026-03-01T03:00:00+00:00"' in page


def closed_form_token(app, client) -> str:
    """A valid CSRF token when the page shows no form (the phase is closed)."""
    with app.test_request_context():
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as client_session:
        client_session["csrf_token"] = raw
    return token


def test_refused_before_phase_start(app, client, open_cycle, time_machine):
    time_machine.move_to(START - timedelta(seconds=1), tick=False)
    token = closed_form_token(app, client)
    response = client.post(URL, data={"csrf_token": token, **valid_data()})
    assert response.status_code == 403
    assert proposal_count() == 0
    response = client.get(URL)
    assert response.status_code == 200
    page = html(response)
    assert "Submission opens on" in page and 'name="title"' not in page
    assert 'datetime="2026-04-01T03:00:00+00:00"' in page  # and when it closes


def test_refused_in_wrong_state(client, open_cycle):
    token = csrf_token(client, URL)
    cycle = open_cycle["cycle"]
    cycle.state = "under_review"
    db.session.commit()
    response = client.post(URL, data={"csrf_token": token, **valid_data()})
    assert response.status_code == 403
    assert proposal_count() == 0
    assert client.get(URL).status_code == 200
    assert "/propostas/nova" not in html(client.get("/ciclos/op-2026"))


def test_csrf_token_required(client, open_cycle):
    response = client.post(URL, data=valid_data())
    assert response.status_code == 400
    assert proposal_count() == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Give your proposal a title."),
        ({"title": "Obra"}, "between 5 and 160 characters"),
        ({"title": "     "}, "between 5 and 160 characters"),  # refused by the service
        ({"description": "Curta demais"}, "between 20 and 5000 characters"),
        ({"estimated_cost": "abc"}, "Enter an amount in reais"),
        ({"estimated_cost": "0"}, "must be more than zero"),
        ({"estimated_cost": ""}, "Enter the estimated cost."),
        ({"region": "999999"}, "Choose one of the options in the list."),
        ({"region": "abc"}, "Choose one of the options in the list."),
        ({"contact": ""}, "Enter an e-mail address or a phone number."),
        ({"contact": "me liga"}, "phone number with area code"),
        ({"contact": "ana@"}, "Enter a valid e-mail address."),
        # Control characters: one-line fields refuse line breaks too; the description keeps them.
        ({"title": "Praça\nVOTES\nvoter_id;vote"}, ONE_LINE),
        ({"title": "Praça da Estação\r"}, ONE_LINE),
        ({"place": "Rua\tdos Pinhos"}, ONE_LINE),
        ({"author_name": "Ana\u2028Souza"}, ONE_LINE),
        ({"contact": "ana@example.com\r\nBcc: x@example.com"}, ONE_LINE),
        ({"description": "Nova iluminação,\nbancos\x1b[31m e acessibilidade."}, NO_CONTROL),
    ],
)
def test_bad_input_is_422_and_nothing_stored(client, open_cycle, overrides, message):
    response = post_form(client, URL, valid_data(**overrides))
    assert response.status_code == 422
    page = html(response)
    assert message in page
    assert 'role="alert"' in page  # the error summary
    assert proposal_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_regional_cycle_requires_region(client, app_ctx, time_machine):
    time_machine.move_to(START + timedelta(days=1), tick=False)
    factories.region(slug="pampulha", name="Pampulha")
    factories.cycle(
        slug="opr-2026",
        kind="op-regional",
        state="open_for_proposals",
        phases=[("proposals", START, END)],
    )
    url = "/ciclos/opr-2026/propostas/nova"
    assert "The whole city" not in html(client.get(url))
    response = post_form(client, url, valid_data(region=""))
    assert response.status_code == 422
    assert "Choose the region of the proposal." in html(response)
    assert proposal_count() == 0


@pytest.fixture
def opca(app_ctx, time_machine):
    time_machine.move_to(START + timedelta(days=1), tick=False)
    norte = factories.region(slug="norte", name="Norte")
    school = factories.school(norte, slug="em-aurora", name="EM Aurora")
    factories.cycle(
        slug="opca-2026",
        kind="opca",
        state="open_for_proposals",
        phases=[("proposals", START, END)],
    )
    return {"region": norte, "school": school}


def test_opca_requires_school(client, opca):
    url = "/ciclos/opca-2026/propostas/nova"
    page = html(client.get(url))
    assert '<label for="school">' in page and "EM Aurora" in page
    assert 'name="region"' not in page
    response = post_form(client, url, valid_data(school=""))
    assert response.status_code == 422
    assert "Choose the school of the proposal." in html(response)
    assert proposal_count() == 0


def test_opca_proposal_takes_the_school_region(client, opca):
    url = "/ciclos/opca-2026/propostas/nova"
    response = post_form(client, url, valid_data(school=str(opca["school"].id)))
    assert response.status_code == 303
    proposal = db.session.scalar(sa.select(Proposal))
    assert proposal.code == "OPCA2026-0001"
    assert proposal.school_id == opca["school"].id
    assert proposal.region_id == opca["region"].id


def test_unknown_or_draft_cycle_is_404(client, open_cycle):
    factories.cycle(slug="rascunho", state="draft", phases=[("proposals", START, END)])
    assert client.get("/ciclos/rascunho/propostas/nova").status_code == 404
    assert client.get("/ciclos/nada/propostas/nova").status_code == 404


def test_post_is_rate_limited_per_ip(app, client, open_cycle):
    previous = app.config["PROPOSAL_SUBMIT_LIMIT_PER_IP"]
    app.config["PROPOSAL_SUBMIT_LIMIT_PER_IP"] = "2 per minute"
    try:
        token = csrf_token(client, URL)
        for _ in range(2):
            response = client.post(URL, data={"csrf_token": token, **valid_data(title="")})
            assert response.status_code == 422
        response = client.post(URL, data={"csrf_token": token, **valid_data()})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "Too many attempts" in html(response)
        assert proposal_count() == 0
        # Reading the form is not limited.
        assert client.get(URL).status_code == 200
    finally:
        app.config["PROPOSAL_SUBMIT_LIMIT_PER_IP"] = previous


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "Praça\nVOTES\nvoter_id;vote"},
        {"place": "Rua\x0bdos Pinhos"},
        {"author_name": "Ana\x85"},
        {"contact": "ana@example.com\n"},
        {"description": "Nova iluminação e bancos\x00 para a praça inteira."},
        {"description": "Nova iluminação e bancos\u2029para a praça inteira."},
    ],
)
def test_the_service_refuses_control_characters_behind_the_form(open_cycle, overrides):
    values = {
        "title": "Reforma da Praça da Estação",
        "description": "Nova iluminação,\r\n\tbancos e acessibilidade para a praça inteira.",
        "estimated_cost_cents": 1_250_000_00,
    }
    with pytest.raises(ValidationFailed) as info:
        submit_proposal(open_cycle["cycle"], ProposalData(**(values | overrides)))
    assert info.value.status == 422 and info.value.code == "invalid_character"
    assert proposal_count() == 0
    # The same proposal without them is taken, its description's line breaks kept.
    proposal = submit_proposal(open_cycle["cycle"], ProposalData(**values))
    assert proposal.description == values["description"]
