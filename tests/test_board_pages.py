"""The public board page and receipt pages: the head as the database has it, the lookup form
(POST: the code never in a URL), sealed / pending / unknown receipts, old links, no caching, no
Referer, the rate limit, and accessibility."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import pytest

from opdigital.board.models import BoardEntry, BoardHead
from opdigital.extensions import db
from opdigital.voting.receipts import normalise_receipt, receipt_hash
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import csrf_token
from tests.support.pages import page_problems


def _vote(client, world, choices_list, first: int = 700) -> list[str]:
    return vs.cast_all(client, world, choices_list, first)


class ById(HTMLParser):
    """The text of every element that has an id, and every element's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.attrs: dict[str, dict] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        element_id = attributes.get("id")
        if element_id:
            self.attrs[element_id] = attributes
            self.text[element_id] = ""
        if tag not in {"input", "br", "link", "meta", "img"}:
            self._open.append(element_id)

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id:
                self.text[element_id] += data


def _parse(response) -> ById:
    page = ById()
    page.feed(response.get_data(as_text=True))
    return page


def _accessible(response) -> None:
    assert page_problems(response.get_data(as_text=True)) == []


def _board_url(slug: str) -> str:
    return f"/ciclos/{slug}/quadro"


def _lookup_url(slug: str) -> str:
    return f"/ciclos/{slug}/comprovante"


def _look_up(client, slug: str, code: str, *, token: str | None = None, **kwargs):
    """The lookup form sent as a browser sends it: the token from the form's page, then POST."""
    token = token or csrf_token(client, _lookup_url(slug))
    return client.post(_lookup_url(slug), data={"csrf_token": token, "codigo": code}, **kwargs)


def _no_code_kept(response) -> None:
    """A receipt page is never cached, and names itself in no Referer."""
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


# --- board page ----------------------------------------------------------------------------


def test_board_page_shows_the_head_the_database_has(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=2, BOARD_MAX_DELAY_SECONDS=3600)
    world = vs.voting_cycle()
    _vote(client, world, [world.ids[:2]] * 3)  # two sealed, one waiting
    response = client.get(_board_url(world.slug))
    assert response.status_code == 200
    db.session.expire_all()
    head = db.session.get(BoardHead, world.cycle.id)
    page = _parse(response)
    assert page.text["board-head-hash"].strip() == head.entry_hash
    assert len(head.entry_hash) == 64
    assert page.text["board-head-seq"].strip() == "2" == str(head.seq)
    html = response.get_data(as_text=True)
    assert f"/api/v1/cycles/{world.slug}/board/head" in html
    # The batch size and the delay (in minutes) are stated.
    assert page.text["board-batch-size"] == "2"
    assert page.text["board-max-delay"] == "60"
    # The lookup form: POST (the code stays out of URLs) with its CSRF token, labelled.
    assert 'name="codigo"' in html and '<label for="codigo">' in html
    assert page.attrs["lookup-form"]["method"] == "post"
    assert page.attrs["lookup-form"]["action"] == f"/ciclos/{world.slug}/comprovante"
    form = html.split('id="lookup-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrf_token"' in form
    _accessible(response)


def test_board_page_of_an_empty_board_shows_the_genesis_hash(app_ctx, client):
    world = vs.voting_cycle()
    page = _parse(client.get(_board_url(world.slug)))
    assert page.text["board-head-hash"].strip() == "0" * 64
    assert page.text["board-head-seq"].strip() == "0"


def test_board_and_receipt_pages_are_404_for_drafts_and_unknown_cycles(app_ctx, client):
    draft = factories.cycle(state="draft")
    token = csrf_token(client, _lookup_url(vs.voting_cycle().slug))
    for slug in (draft.slug, "no-such-cycle"):
        assert client.get(_board_url(slug)).status_code == 404
        assert client.get(_lookup_url(slug)).status_code == 404
        assert _look_up(client, slug, "ABCD-EFGH-IJKL-MNOP", token=token).status_code == 404
        assert client.get(f"/ciclos/{slug}/comprovante/ABCD-EFGH-IJKL-MNOP").status_code == 404


def test_cycle_page_links_to_the_board_during_the_vote(app_ctx, client):
    world = vs.voting_cycle()
    html = client.get(f"/ciclos/{world.slug}").get_data(as_text=True)
    assert f'href="/ciclos/{world.slug}/quadro"' in html
    assert f"/ciclos/{world.slug}/resultados" not in html  # nothing published yet
    before = factories.cycle(state="open_for_proposals")
    assert "/quadro" not in client.get(f"/ciclos/{before.slug}").get_data(as_text=True)


# --- lookup form ---------------------------------------------------------------------------


def test_lookup_page_is_the_form_with_what_to_do_coming_from_the_qr_code(app_ctx, client):
    world = vs.voting_cycle()
    response = client.get(_lookup_url(world.slug))
    assert response.status_code == 200
    _no_code_kept(response)
    page = _parse(response)
    # Without JavaScript, the QR code's page asks for the code printed under it.
    assert "qr-instructions" in page.text
    assert page.attrs["codigo"]["name"] == "codigo"
    assert page.attrs["lookup-form"]["method"] == "post"
    assert page.attrs["lookup-form"]["action"] == _lookup_url(world.slug)
    assert "data-receipt-lookup" in page.attrs["lookup-form"]
    # With it, our own script (the CSP allows no other) sends the fragment's code.
    html = response.get_data(as_text=True)
    assert '<script src="/static/js/receipt-lookup.js" defer></script>' in html
    assert client.get("/static/js/receipt-lookup.js").status_code == 200
    _accessible(response)


def test_lookup_is_refused_without_the_csrf_token(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world = vs.voting_cycle()
    (code,) = _vote(client, world, [world.ids[:2]])
    response = client.post(_lookup_url(world.slug), data={"codigo": code})
    assert response.status_code == 400
    assert "entry-hash" not in _parse(response).text


@pytest.mark.parametrize("data", [{}, {"codigo": ""}, {"codigo": "  -- / ?"}])
def test_lookup_without_a_code_shows_the_form_again_with_a_message(app_ctx, client, data):
    world = vs.voting_cycle()
    token = csrf_token(client, _lookup_url(world.slug))
    response = client.post(_lookup_url(world.slug), data={"csrf_token": token, **data})
    assert response.status_code == 422
    _no_code_kept(response)
    page = _parse(response)
    assert page.text["codigo-error"].strip()
    assert page.attrs["codigo"]["aria-invalid"] == "true"
    _accessible(response)


def test_old_receipt_links_lead_to_the_form_and_look_nothing_up(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world = vs.voting_cycle()
    (code,) = _vote(client, world, [world.ids[:2]])
    # The old receipt page (QR codes printed before) and the old GET form (a cached page).
    for old in (
        f"/ciclos/{world.slug}/comprovante/{code}",
        f"/ciclos/{world.slug}/comprovante?codigo={code}",
    ):
        response = client.get(old)
        assert response.status_code == 303
        _no_code_kept(response)
        # On to the form: the code leaves the address bar, and no later request repeats it.
        assert response.headers["Location"] == _lookup_url(world.slug)
        page = client.get(response.headers["Location"])
        html = page.get_data(as_text=True)
        assert 'class="flash flash-warning"' in html
        assert "receipt-status" not in _parse(page).attrs  # nothing was looked up
        assert normalise_receipt(code) not in normalise_receipt(html)


# --- receipt pages -------------------------------------------------------------------------


def test_sealed_receipt_shows_its_entry_and_choices(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world = vs.voting_cycle()
    a, b, c = world.proposals[:3]
    code, _other = _vote(client, world, [[a.id, c.id], [b.id, c.id]])
    response = _look_up(client, world.slug, code)
    assert response.status_code == 200
    _no_code_kept(response)
    db.session.expire_all()
    entry = db.session.scalar(
        db.select(BoardEntry).where(BoardEntry.receipt_hash == receipt_hash(code))
    )
    page = _parse(response)
    assert page.attrs["receipt-status"]["data-status"] == "sealed"
    assert page.text["entry-seq"].strip() == str(entry.seq)
    assert page.text["entry-receipt-hash"].strip() == receipt_hash(code)
    assert page.text["entry-prev-hash"].strip() == entry.prev_hash
    assert page.text["entry-hash"].strip() == entry.entry_hash
    html = response.get_data(as_text=True)
    for chosen in (a, c):
        assert f'href="/propostas/{chosen.code}"' in html and chosen.title in html
    assert f'href="/propostas/{b.code}"' not in html  # the other voter's choice
    assert code in html
    _accessible(response)


def test_receipt_page_accepts_the_code_in_any_case_and_without_dashes(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world = vs.voting_cycle()
    (code,) = _vote(client, world, [world.ids[:2]])
    response = _look_up(client, world.slug, " " + code.replace("-", " ").lower() + " ")
    assert response.status_code == 200
    assert _parse(response).attrs["receipt-status"]["data-status"] == "sealed"


def test_pending_receipt_says_when_it_will_be_sealed_and_shows_the_choices(
    app_ctx, client, settings
):
    settings(BOARD_BATCH_SIZE=100, BOARD_MIN_BATCH=5, BOARD_MAX_DELAY_SECONDS=3600)
    world = vs.voting_cycle()
    first, second = world.proposals[:2]
    (code,) = _vote(client, world, [[first.id, second.id]], first=800)
    response = _look_up(client, world.slug, code)
    assert response.status_code == 200
    page = _parse(response)
    assert page.attrs["receipt-status"]["data-status"] == "pending"
    assert "entry-hash" not in page.text
    deadline = re.search(
        r'id="receipt-status"[^>]*>[^<]*<time datetime="([^"]+)"', response.get_data(as_text=True)
    )
    assert deadline, "the page gives the time the ballot will be sealed by"
    voting = world.cycle.phase_of_kind("voting")
    assert datetime.fromisoformat(deadline.group(1)) == voting.ends_at  # at the latest, the close
    html = response.get_data(as_text=True)
    assert "lotes de pelo menos 5" in " ".join(html.split())  # pt-BR first
    for chosen in (first, second):
        assert f'href="/propostas/{chosen.code}"' in html
    assert response.headers["Cache-Control"] == "no-store"
    _accessible(response)


def test_looking_a_receipt_up_seals_nothing_and_starts_no_clock(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=100, BOARD_MIN_BATCH=1, BOARD_MAX_DELAY_SECONDS=0)
    world = vs.voting_cycle()
    (code,) = _vote(client, world, [world.ids[:2]])
    response = _look_up(client, world.slug, code)
    assert response.status_code == 200
    assert _parse(response).attrs["receipt-status"]["data-status"] == "pending"
    db.session.expire_all()
    assert db.session.get(BoardHead, world.cycle.id) is None  # no row written, none locked


@pytest.mark.parametrize("code", ["ABCD-EFGH-IJKL-MNOP", "x" * 200, "x-"])
def test_unknown_receipt_is_a_friendly_404_with_the_form(app_ctx, client, code):
    world = vs.voting_cycle()
    response = _look_up(client, world.slug, code)
    assert response.status_code == 404
    _no_code_kept(response)
    page = _parse(response)
    assert "receipt-not-found" in page.text
    assert page.attrs["codigo"]["name"] == "codigo"
    assert page.attrs["codigo"]["value"] == code[:64]  # to correct a typo, not type it all again
    _accessible(response)


def test_a_receipt_of_another_cycle_is_not_found(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world, other = vs.voting_cycle(), vs.voting_cycle()
    (code,) = _vote(client, world, [world.ids[:2]])
    assert _look_up(client, other.slug, code).status_code == 404


def test_receipt_pages_are_rate_limited_per_address(app_ctx, client, settings):
    settings(RECEIPT_LOOKUP_LIMIT_PER_IP="2 per minute")
    world = vs.voting_cycle()
    token = csrf_token(client, _lookup_url(world.slug))  # showing the form is not limited

    def look_up(**kwargs):
        return _look_up(client, world.slug, "ABCD-EFGH-IJKL-MNOP", token=token, **kwargs)

    assert [look_up().status_code for _ in range(2)] == [404, 404]
    refused = look_up()
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    _no_code_kept(refused)
    assert client.get(_lookup_url(world.slug)).status_code == 200
    # Another address is not affected.
    other = look_up(environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert other.status_code == 404
