"""Voting by phone on the web (issue 15, points 5 and 6): the coordinators' switches, the cycle
page's numbers, the public "vote by phone" page with the ballot as a list, and the turnout per
channel. The line itself (webhooks, dialogue) is tested with the phone package."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.errors import Conflict
from opdigital.extensions import db
from opdigital.formatting import money
from opdigital.phone import switches
from opdigital.phone.services import forget_phone_works, phone_works
from opdigital.phone.words import meaning
from opdigital.public.phone_help import KEYS
from opdigital.registry.credentials import EligibleVoter
from opdigital.registry.models import delegate_scope
from opdigital.voting.models import Channel
from opdigital.voting.services import cast_ballot
from opdigital.voting.turnout import turnout
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import english_client, login_as
from tests.support.coordination import audit_count, post, text
from tests.support.pages import page_problems

ROLES = ("auditor", "coordinator")
VOICE, TEXT = "0800 123 4567", "+55 31 98888-7777"
WORK = re.compile(
    r'<li class="phone-work" value="(\d+)"><strong class="phone-work-number">Work (\d+)</strong>: '
    r'<span class="phone-work-title">([^<]*)</span>, '
    r'<span class="money phone-work-cost">([^<]*)</span></li>'
)


@pytest.fixture(autouse=True)
def _fresh_phone_works():
    """phone_works caches per cycle id and freeze instant; ids restart in every test."""
    forget_phone_works()
    yield
    forget_phone_works()


@pytest.fixture
def numbers(settings):
    """The city's phone numbers and provider account, as a deployment sets them."""
    settings(PHONE_VOICE_NUMBER=VOICE, PHONE_TEXT_NUMBER=TEXT, PHONE_AUTH_TOKEN="provider-token")


def _reload(cycle_id: int) -> Cycle:
    db.session.expire_all()
    return db.session.get(Cycle, cycle_id)


def _ballot() -> Cycle:
    """A voting cycle whose ballot is frozen: two works in Venda Nova, two in Barreiro (created
    interleaved, so the line's order is not the order of entry) and one city-wide."""
    venda_nova = factories.region(slug="venda-nova", name="Venda Nova")
    barreiro = factories.region(slug="barreiro", name="Barreiro")
    world = vs.voting_cycle(costs=(1_500_000_00,))  # the city-wide work
    for n, (region, cost) in enumerate(
        [(barreiro, 250_000_00), (venda_nova, 1_000_000_00), (barreiro, 700_000_50)]
        + [(venda_nova, 30_00)]
    ):
        factories.proposal(
            world.cycle,
            status="on_ballot",
            region_id=region.id,
            estimated_cost_cents=cost,
            title=f"Obra número {n} & <praça>",
        )
    world.cycle.ballot_frozen_at = now()
    db.session.commit()
    return world.cycle


# --- the switches (service) -------------------------------------------------------------------


def test_switching_is_audited_with_before_and_after_and_a_repeat_changes_nothing(app_ctx):
    cycle = vs.voting_cycle(ballot_frozen_at=now()).cycle  # during the vote, ballot frozen
    staff = factories.user("coordinator")
    assert switches.set_phone_switches(cycle, switches.PhoneSwitches(True, False), staff)
    assert switches.set_phone_switches(cycle, switches.PhoneSwitches(True, True), staff)
    assert not switches.set_phone_switches(cycle, switches.PhoneSwitches(True, True), staff)
    assert switches.set_phone_switches(cycle, switches.PhoneSwitches(False, True), staff)
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "cycle.phone").order_by(AuditEntry.id)
    ).all()
    assert [(e.before, e.after) for e in entries] == [
        ({"phone_voice": False, "phone_text": False}, {"phone_voice": True, "phone_text": False}),
        ({"phone_voice": True, "phone_text": False}, {"phone_voice": True, "phone_text": True}),
        ({"phone_voice": True, "phone_text": True}, {"phone_voice": False, "phone_text": True}),
    ]
    assert {e.object_id for e in entries} == {cycle.slug}
    assert {e.actor_email for e in entries} == {staff.email}
    cycle = _reload(cycle.id)
    assert (cycle.phone_voice, cycle.phone_text) == (False, True)


@pytest.mark.parametrize("kind", ["opca", "delegates"])
def test_switching_on_is_refused_where_no_caller_can_identify(app_ctx, kind):
    staff = factories.user("coordinator")
    if kind == "opca":
        cycle = factories.cycle(kind="opca", state="voting")
    else:
        cycle = factories.cycle(kind="op-regional", state="voting")
        cycle.registry_scope = delegate_scope(cycle.id)
        db.session.commit()
    for wanted in (switches.PhoneSwitches(True, False), switches.PhoneSwitches(False, True)):
        with pytest.raises(Conflict) as refused:
            switches.set_phone_switches(cycle, wanted, staff)
        db.session.rollback()
        assert refused.value.code == "no_phone_votes" and refused.value.status == 409
    cycle = _reload(cycle.id)
    assert (cycle.phone_voice, cycle.phone_text) == (False, False)
    assert audit_count("cycle.phone") == 0
    # A channel left on (from before the cycle's registry changed) can always be switched off.
    cycle.phone_voice = True
    db.session.commit()
    assert switches.set_phone_switches(cycle, switches.PhoneSwitches(False, False), staff)
    assert _reload(cycle.id).phone_voice is False


# --- the coordinators' screen -----------------------------------------------------------------


def test_the_screen_switches_the_line_during_the_vote(app, client, coordinator, numbers):
    cycle = vs.voting_cycle(ballot_frozen_at=now()).cycle
    url = f"/staff/cycles/{cycle.slug}/phone"
    page = client.get(url)
    assert page.status_code == 200
    body = text(page)
    assert VOICE in body and f"VOTAR to {TEXT}" in body and "Auth token set" in body
    assert 'name="voice"' in page.get_data(as_text=True)

    response = post(app, client, url, {"voice": "y"})
    assert response.status_code == 302 and response.headers["Location"] == url
    cycle = _reload(cycle.id)
    assert (cycle.phone_voice, cycle.phone_text) == (True, False)
    assert "Voting by phone was updated." in text(client.get(url))
    assert '<input checked id="voice" name="voice"' in client.get(url).get_data(as_text=True)
    assert "Voice line On" in text(client.get(f"/staff/cycles/{cycle.slug}"))

    post(app, client, url, {"text": "y"})  # the voice box left unticked: off
    cycle = _reload(cycle.id)
    assert (cycle.phone_voice, cycle.phone_text) == (False, True)
    assert audit_count("cycle.phone") == 2
    assert "Nothing changed." in text(post(app, client, url, {"text": "y"}, follow_redirects=True))
    assert audit_count("cycle.phone") == 2


def test_the_screen_explains_and_refuses_for_opca(app, client, coordinator):
    cycle = factories.cycle(kind="opca", state="voting", title="OPCA 2026")
    url = f"/staff/cycles/{cycle.slug}/phone"
    page = client.get(url)
    assert page.status_code == 200
    assert "cannot take votes by phone" in text(page) and "school and enrolment" in text(page)
    assert 'name="voice"' not in page.get_data(as_text=True)  # nothing to switch on

    refused = post(app, client, url, {"voice": "y"})
    assert refused.status_code == 409
    assert "Voting by phone cannot be switched on in this cycle." in text(refused)
    assert _reload(cycle.id).phone_voice is False
    assert audit_count("cycle.phone") == 0


def test_the_screen_warns_when_a_channel_is_on_without_its_settings(
    app, client, coordinator, settings
):
    settings(PHONE_VOICE_NUMBER="", PHONE_TEXT_NUMBER="", PHONE_AUTH_TOKEN="")
    cycle = vs.voting_cycle().cycle
    url = f"/staff/cycles/{cycle.slug}/phone"
    assert "phone-problems" not in client.get(url).get_data(as_text=True)  # all off: no warning
    post(app, client, url, {"voice": "y", "text": "y"})
    body = text(client.get(url))
    for missing in ("PHONE_AUTH_TOKEN) is not set", "no number is set (PHONE_VOICE_NUMBER)"):
        assert missing in body
    assert "no number is set (PHONE_TEXT_NUMBER)" in body
    settings(PHONE_VOICE_NUMBER=VOICE, PHONE_AUTH_TOKEN="provider-token")
    body = text(client.get(url))
    assert "PHONE_AUTH_TOKEN) is not set" not in body and "(PHONE_VOICE_NUMBER):" not in body
    assert "no number is set (PHONE_TEXT_NUMBER)" in body


def test_the_screen_is_for_staff_with_a_csrf_token(app):
    # No application context held across requests: each client gets a CSRF token of its own.
    with app.app_context():
        cycle_id, slug = (c := vs.voting_cycle().cycle).id, c.slug
        auditor, coordinator = (SimpleNamespace(id=factories.user(r).id) for r in ROLES)
    url = f"/staff/cycles/{slug}/phone"
    anonymous = app.test_client()
    answer = post(app, anonymous, url, {"voice": "y"})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    as_auditor = app.test_client()
    login_as(as_auditor, auditor)
    assert as_auditor.get(url).status_code == 403
    assert post(app, as_auditor, url, {"voice": "y"}).status_code == 403
    staff = app.test_client()
    login_as(staff, coordinator)
    assert staff.post(url, data={"voice": "y"}).status_code == 400
    assert staff.post(url, data={"voice": "y", "csrf_token": "forged"}).status_code == 400
    assert post(app, staff, "/staff/cycles/no-such-cycle/phone", {"voice": "y"}).status_code == 404
    with app.app_context():
        assert db.session.get(Cycle, cycle_id).phone_voice is False
        assert audit_count() == 0


# --- the public cycle page ----------------------------------------------------------------


def _cycle_page(app, slug: str) -> str:
    response = english_client(app).get(f"/ciclos/{slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_cycle_page_shows_the_numbers_only_while_a_channel_is_on(app, app_ctx, numbers):
    cycle = vs.voting_cycle().cycle
    page = _cycle_page(app, cycle.slug)
    assert "tel:" not in page and "votar-por-telefone" not in page and VOICE not in page

    cycle.phone_voice = True
    db.session.commit()
    page = _cycle_page(app, cycle.slug)
    assert f'href="tel:08001234567">{VOICE}</a>' in page
    assert f'href="/ciclos/{cycle.slug}/votar-por-telefone">How to vote by phone</a>' in page
    assert "sms:" not in page

    cycle.phone_voice, cycle.phone_text = False, True
    db.session.commit()
    page = _cycle_page(app, cycle.slug)
    assert 'href="sms:+5531988887777?body=VOTAR"' in page and "tel:" not in page
    assert "Or send a text message with VOTAR to" in html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_cycle_page_announces_a_vote_to_come_but_not_one_that_closed(app, app_ctx, numbers):
    later = now() + timedelta(days=5)
    coming = vs.voting_cycle(state="ballot_frozen", opens=later, phone_voice=True).cycle
    page = _cycle_page(app, coming.slug)
    assert "tel:08001234567" in page and "when the vote opens" in page
    closed = vs.voting_cycle(state="closed", phone_voice=True, phone_text=True).cycle
    assert "tel:" not in _cycle_page(app, closed.slug)
    ended = vs.voting_cycle(
        opens=now() - timedelta(days=9), closes=now() - timedelta(days=1), phone_voice=True
    ).cycle
    assert "tel:" not in _cycle_page(app, ended.slug)  # still "voting", but its phase is over


def test_the_cycle_page_shows_no_number_that_is_not_set_or_cannot_serve(app, app_ctx, settings):
    settings(PHONE_VOICE_NUMBER="", PHONE_TEXT_NUMBER="")
    cycle = vs.voting_cycle(phone_voice=True, phone_text=True).cycle
    assert "votar-por-telefone" not in _cycle_page(app, cycle.slug)
    settings(PHONE_VOICE_NUMBER=VOICE)
    # An OPCA cycle with the switch on (set before the refusal existed) still offers no phone.
    opca = factories.cycle(
        kind="opca",
        state="voting",
        phone_voice=True,
        phases=[("voting", now() - timedelta(days=1), now() + timedelta(days=1))],
    )
    assert "tel:" not in _cycle_page(app, opca.slug)
    assert "tel:08001234567" in _cycle_page(app, cycle.slug)


# --- the public "vote by phone" page --------------------------------------------------------


def _help(app, slug: str, *, english: bool = True):
    client = english_client(app) if english else app.test_client()
    return client.get(f"/ciclos/{slug}/votar-por-telefone")


def test_the_help_page_lists_every_work_in_the_lines_order(app, app_ctx, numbers):
    cycle = _ballot()
    cycle.phone_voice = cycle.phone_text = True
    db.session.commit()
    response = _help(app, cycle.slug)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        expected = [
            (str(w.number), str(w.number), w.title, money(w.cost_cents)) for w in phone_works(cycle)
        ]
    listed = [(a, b, html.unescape(t), html.unescape(c)) for a, b, t, c in WORK.findall(page)]
    assert len(expected) == 5 and listed == expected
    assert [n for n, *_ in listed] == ["1", "2", "3", "4", "5"]
    # Region by region in the line's order (by region id), city-wide last.
    headings = re.findall(r'<h3 id="region-\d+">([^<]*)</h3>', page)
    assert headings == ["Venda Nova", "Barreiro", "Whole city"]
    assert "&lt;praça&gt;" in page and "<praça>" not in page
    # The rule in words (voting.wording, as the ballot page says it), the numbers and the keys.
    assert "Choose from 2 to 3 proposals." in page
    assert "The total cost of your choices must fit the budget of" in page
    assert 'href="tel:08001234567"' in page and 'href="sms:+5531988887777?body=VOTAR"' in page
    plain = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    for said in ("12 digits", "17051980", "twice", "SIM, ESCOLHER", "PROXIMA", "VOLTAR"):
        assert said in plain
    for said in ("PULAR", "REPETIR", "RESUMO", "SAIR", "Slower speech"):
        assert said in plain
    assert page_problems(page) == []


def test_the_help_page_in_portuguese_is_complete_too(app, app_ctx, numbers):
    cycle = _ballot()
    cycle.phone_voice = True
    db.session.commit()
    response = _help(app, cycle.slug, english=False)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="pt-BR">' in page
    assert len(WORK.findall(page.replace(">Obra ", ">Work "))) == 5  # translated or not yet
    assert page_problems(page) == []


def test_the_words_the_help_page_gives_are_the_ones_a_text_message_understands():
    for key, _meaning, words in KEYS:
        for word in filter(None, words.split(", ")):
            assert meaning(word).keys == key, word
    assert meaning("SAIR").stop and meaning(switches.START_WORD).start


def test_before_the_freeze_the_help_page_says_the_list_comes_later(app, app_ctx, numbers):
    cycle = vs.voting_cycle(state="under_review", phone_voice=True).cycle
    page = _help(app, cycle.slug).get_data(as_text=True)
    assert 'id="ballot-not-ready"' in page and "phone-work" not in page
    assert "when the ballot is ready" in page


def test_the_help_page_explains_where_no_phone_vote_is_offered(app, app_ctx, numbers):
    opca = factories.cycle(kind="opca", state="voting", phone_voice=True)
    response = _help(app, opca.slug)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="phone-not-possible"' in page and "tel:" not in page and "phone-work" not in page
    off = _ballot()  # frozen, but no channel on
    page = _help(app, off.slug).get_data(as_text=True)
    assert 'id="phone-not-offered"' in page and "phone-work" not in page and "tel:" not in page
    closed = vs.voting_cycle(state="closed", phone_voice=True).cycle
    page = _help(app, closed.slug).get_data(as_text=True)
    assert 'id="phone-not-open"' in page and "tel:" not in page


def test_the_help_page_is_404_for_drafts_and_unknown_cycles(app, app_ctx, numbers):
    draft = factories.cycle(state="draft", phone_voice=True)
    assert _help(app, draft.slug).status_code == 404
    assert _help(app, "no-such-cycle").status_code == 404


# --- turnout per channel ----------------------------------------------------------------------


def test_turnout_counts_the_votes_of_each_channel(app, app_ctx):
    world = vs.voting_cycle(ballot_frozen_at=now())
    channels = [Channel.VOICE, Channel.VOICE, Channel.TEXT, Channel.API, Channel.WEB]
    for n, channel in enumerate(channels):
        number = vs.make_titulo(900 + n)
        vs.register(number)
        voter = EligibleVoter(vs.key_of(number), None, None)
        cast_ballot(world.cycle, voter, world.ids[:2], channel=channel)
    counts = turnout(world.cycle)
    assert counts.total == 5
    assert counts.by_channel == {"voice": 2, "text": 1, "api": 1, "web": 1}

    staff = english_client(app)
    login_as(staff, factories.user("coordinator"))
    page = staff.get(f"/staff/cycles/{world.slug}/turnout").get_data(as_text=True)
    section = page.split('id="channels-title"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]*)</th><td class="num">(\d+)</td>', section)
    assert rows == [
        ("Web (also kiosks and poll workers)", "1"),
        ("API", "1"),
        ("Paper", "0"),
        ("Phone call", "2"),
        ("Text message", "1"),
    ]
