"""The public board page and receipt pages: the head as the database has it, the lookup form,
sealed / pending / unknown receipts, no caching, the rate limit, and accessibility."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest

from opdigital.board.models import BoardEntry, BoardHead
from opdigital.extensions import db
from opdigital.voting.receipts import receipt_hash
from tests import factories
from tests import voting_support as vs
from tests.test_accessibility import PageAudit


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
    audit = PageAudit()
    audit.feed(response.get_data(as_text=True))
    assert audit.problems() == []


def _board_url(slug: str) -> str:
    return f"/ciclos/{slug}/quadro"


def _receipt_url(slug: str, code: str) -> str:
    return f"/ciclos/{slug}/comprovante/{code}"


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
    assert page.text["board-pending"].strip() == "1"
    html = response.get_data(as_text=True)
    assert f"/api/v1/cycles/{world.slug}/board/head" in html
    # The batch size and the delay (in minutes) are stated.
    assert page.text["board-batch-size"] == "2"
    assert page.text["board-max-delay"] == "60"
    # The lookup form: GET, field `codigo`, labelled.
    assert 'name="codigo"' in html and '<label for="codigo">' in html
    assert re.search(r'<form method="get" action="/ciclos/[^"]+/comprovante"', html)
    _accessible(response)


def test_board_page_of_an_empty_board_shows_the_genesis_hash(app_ctx, client):
    world = vs.voting_cycle()
    page = _parse(client.get(_board_url(world.slug)))
    assert page.text["board-head-hash"].strip() == "0" * 64
    assert page.text["board-head-seq"].strip() == "0"


def test_board_and_receipt_pages_are_404_for_drafts_and_unknown_cycles(app_ctx, client):
    draft = factories.cycle(state="draft")
    for slug in (draft.slug, "no-such-cycle"):
        assert client.get(_board_url(slug)).status_code == 404
        assert client.get(f"/ciclos/{slug}/comprovante?codigo=ABCD").status_code == 404
        assert client.get(_receipt_url(slug, "ABCD-EFGH-IJKL-MNOP")).status_code == 404


def test_cycle_page_links_to_the_board_during_the_vote(app_ctx, client):
    world = vs.voting_cycle()
    html = client.get(f"/ciclos/{world.slug}").get_data(as_text=True)
    assert f'href="/ciclos/{world.slug}/quadro"' in html
    assert f"/ciclos/{world.slug}/resultados" not in html  # nothing published yet
    before = factories.cycle(state="open_for_proposals")
    assert "/quadro" not in client.get(f"/ciclos/{before.slug}").get_data(as_text=True)


# --- lookup form ---------------------------------------------------------------------------


def test_lookup_redirects_to_the_receipt_page_with_the_code_as_printed(app_ctx, client):
    world = vs.voting_cycle()
    response = client.get(
        f"/ciclos/{world.slug}/comprovante", query_string={"codigo": " k7q2 m4xa-9pld w3zt "}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/ciclos/{world.slug}/comprovante/K7Q2-M4XA-9PLD-W3ZT"
    )


@pytest.mark.parametrize("query", [{}, {"codigo": ""}, {"codigo": "  -- / ?"}])
def test_lookup_without_a_code_goes_back_to_the_board_with_a_message(app_ctx, client, query):
    world = vs.voting_cycle()
    response = client.get(f"/ciclos/{world.slug}/comprovante", query_string=query)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/ciclos/{world.slug}/quadro#consulta")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert 'class="flash flash-warning"' in page.get_data(as_text=True)


# --- receipt pages -------------------------------------------------------------------------


def test_sealed_receipt_shows_its_entry_and_choices(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world = vs.voting_cycle()
    a, b, c = world.proposals[:3]
    code, _other = _vote(client, world, [[a.id, c.id], [b.id, c.id]])
    response = client.get(_receipt_url(world.slug, code))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
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
    response = client.get(_receipt_url(world.slug, code.replace("-", "").lower()))
    assert response.status_code == 200
    assert _parse(response).attrs["receipt-status"]["data-status"] == "sealed"


def test_pending_receipt_says_when_it_will_be_sealed_and_shows_the_choices(
    app_ctx, client, settings
):
    settings(BOARD_BATCH_SIZE=1)
    world = vs.voting_cycle()
    _vote(client, world, [world.ids[2:4]])  # sealed at once: the board has a head
    settings(BOARD_BATCH_SIZE=100, BOARD_MAX_DELAY_SECONDS=3600)
    first, second = world.proposals[:2]
    (code,) = _vote(client, world, [[first.id, second.id]], first=800)
    response = client.get(_receipt_url(world.slug, code))
    assert response.status_code == 200
    page = _parse(response)
    assert page.attrs["receipt-status"]["data-status"] == "pending"
    assert "entry-hash" not in page.text
    db.session.expire_all()
    head = db.session.get(BoardHead, world.cycle.id)
    deadline = re.search(
        r'id="receipt-status"[^>]*>[^<]*<time datetime="([^"]+)"', response.get_data(as_text=True)
    )
    assert deadline, "the page gives the time the ballot will be sealed by"
    assert datetime.fromisoformat(deadline.group(1)) == head.sealed_at + timedelta(hours=1)
    html = response.get_data(as_text=True)
    for chosen in (first, second):
        assert f'href="/propostas/{chosen.code}"' in html
    assert response.headers["Cache-Control"] == "no-store"
    _accessible(response)


def test_the_first_look_at_an_empty_board_starts_its_sealing_clock(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=100, BOARD_MAX_DELAY_SECONDS=600)
    world = vs.voting_cycle()
    (code,) = _vote(client, world, [world.ids[:2]])
    assert db.session.get(BoardHead, world.cycle.id) is None  # nothing sealed, nothing read
    response = client.get(_receipt_url(world.slug, code))
    assert response.status_code == 200
    assert _parse(response).attrs["receipt-status"]["data-status"] == "pending"
    db.session.expire_all()
    head = db.session.get(BoardHead, world.cycle.id)
    assert head is not None and head.seq == 0  # the clock started, kept though nothing was due
    deadline = re.search(
        r'id="receipt-status"[^>]*>[^<]*<time datetime="([^"]+)"', response.get_data(as_text=True)
    )
    assert deadline, "the page gives the time the ballot will be sealed by"
    assert datetime.fromisoformat(deadline.group(1)) == head.sealed_at + timedelta(minutes=10)


@pytest.mark.parametrize("code", ["ABCD-EFGH-IJKL-MNOP", "x" * 200, "---"])
def test_unknown_receipt_is_a_friendly_404_with_the_form(app_ctx, client, code):
    world = vs.voting_cycle()
    response = client.get(_receipt_url(world.slug, code))
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"
    page = _parse(response)
    assert "receipt-not-found" in page.text
    assert page.attrs["codigo"]["name"] == "codigo"
    _accessible(response)


def test_a_receipt_of_another_cycle_is_not_found(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world, other = vs.voting_cycle(), vs.voting_cycle()
    (code,) = _vote(client, world, [world.ids[:2]])
    assert client.get(_receipt_url(other.slug, code)).status_code == 404


def test_receipt_pages_are_rate_limited_per_address(app_ctx, client, settings):
    settings(RECEIPT_LOOKUP_LIMIT_PER_IP="2 per minute")
    world = vs.voting_cycle()
    url = _receipt_url(world.slug, "ABCD-EFGH-IJKL-MNOP")
    assert [client.get(url).status_code for _ in range(2)] == [404, 404]
    refused = client.get(url)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Cache-Control"] == "no-store"
    # Another address is not affected.
    other = client.get(url, environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert other.status_code == 404
