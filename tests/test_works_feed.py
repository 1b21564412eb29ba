"""The Atom feed of the works' execution (`/obras/feed.atom`, `?regiao=` for one region): valid
Atom read back with feedparser, the right news newest first, stable ids, absolute links."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest

from opdigital.clock import now
from opdigital.extensions import db
from opdigital.proposals.models import ProposalHistory
from opdigital.works.feeds import FEED_LIMIT
from tests.support.works_catalogue import RECORDED, execution, milestone
from tests.support.works_catalogue import world as works_world

BASE = "http://localhost:5000"  # PUBLIC_BASE_URL in the tests


@pytest.fixture
def w(app_ctx):
    """The works' world with news: status changes, milestones done (and one not done)."""
    w = works_world()
    w.news = {
        "late_works": execution(
            w.late, "in_works", RECORDED, "Obras começaram.", from_status="tendering"
        ),
        "cancelled": execution(
            w.cancelled, "cancelled", RECORDED + timedelta(days=2), "Terreno indisponível."
        ),
        "school": execution(w.school_work, "tendering", RECORDED + timedelta(days=1)),
    }
    # The world's milestones were all just recorded: this one, corrected later, is the newest.
    w.step = milestone(w.done, "Inauguração", -3, -2, note="Aberta ao público.")
    w.step.updated_at = now() + timedelta(days=1)
    db.session.commit()
    return w


def _feed(client, url: str = "/obras/feed.atom"):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def _titles(parsed) -> list[str]:
    return [entry.title for entry in parsed.entries]


def test_the_feed_is_valid_atom_with_the_news_newest_first(app, client, w, english_by_default):
    parsed = _feed(client)
    feed = parsed.feed
    assert feed.id.startswith("tag:localhost,2024:obras/feed")
    assert feed.title == "Works of the participatory budget: execution news"
    links = {link.rel: link.href for link in feed.links}
    assert links == {"self": f"{BASE}/obras/feed.atom", "alternate": f"{BASE}/obras"}
    entries = parsed.entries
    updated = [entry.updated_parsed for entry in entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.updated_parsed == updated[0]
    # Execution news of listed works only, and milestones done (the world's and this one).
    codes = {entry.link.rsplit("/", 1)[1] for entry in entries}
    assert codes == {w.late.code, w.cancelled.code, w.school_work.code, w.done.code}
    assert not codes & set(w.hidden)
    newest = entries[0]
    assert newest.title == f"{w.done.code} Creche do Norte: step done: Inauguração"
    assert newest.summary.startswith("Step “Inauguração” done on ")
    assert newest.summary.endswith("Aberta ao público.")
    assert newest.link == f"{BASE}/propostas/{w.done.code}"
    cancelled = next(e for e in entries if e.link.endswith(w.cancelled.code))
    assert cancelled.title == f"{w.cancelled.code} Quadra do Barreiro: Cancelled"
    assert cancelled.summary == "Execution status: Cancelled. Terreno indisponível."
    started = next(e for e in entries if e.title.endswith("In works"))
    assert (
        started.summary == "Execution status changed from Tendering to In works. Obras começaram."
    )
    # Milestones not done are no news: the late work's foundation is missing.
    assert not any("Fundação" in title for title in _titles(parsed))
    assert any("Projeto" in title for title in _titles(parsed))


def test_entry_ids_are_tag_uris_stable_across_fetches_and_corrections(app, client, w):
    first = {entry.link + entry.title: entry.id for entry in _feed(client).entries}
    assert len(set(first.values())) == len(first)
    assert all(entry_id.startswith("tag:localhost,2024:obras/") for entry_id in first.values())
    history = db.session.get(ProposalHistory, w.news["cancelled"].id)
    history.note = "Terreno indisponível (corrigido)."
    db.session.commit()
    again = {entry.link + entry.title: entry.id for entry in _feed(client).entries}
    assert again == first
    assert f"tag:localhost,2024:obras/execution/{history.id}" in again.values()
    assert f"tag:localhost,2024:obras/milestone/{w.step.id}" in again.values()


def test_a_region_s_feed_has_only_that_region_s_works(app, client, w):
    parsed = _feed(client, "/obras/feed.atom?regiao=barreiro")
    codes = {entry.link.rsplit("/", 1)[1] for entry in parsed.entries}
    # The school's work counts in its school's region.
    assert codes == {w.cancelled.code, w.school_work.code}
    assert parsed.feed.id == "tag:localhost,2024:obras/feed/barreiro"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == f"{BASE}/obras/feed.atom?regiao=barreiro"
    assert links["alternate"] == f"{BASE}/obras?regiao=barreiro"
    north = _feed(client, "/obras/feed.atom?regiao=norte")
    assert {entry.link.rsplit("/", 1)[1] for entry in north.entries} == {w.late.code, w.done.code}


def test_an_unknown_region_has_no_feed(app, client, w):
    assert client.get("/obras/feed.atom?regiao=atlantida").status_code == 404


def test_the_feed_keeps_the_latest_news_only(app, client, w):
    base = now() + timedelta(days=2)
    for n in range(FEED_LIMIT + 5):
        execution(w.city, "tendering", base + timedelta(hours=n), f"Aviso {n}")
    parsed = _feed(client)
    assert len(parsed.entries) == FEED_LIMIT
    assert parsed.entries[0].summary.endswith(f"Aviso {FEED_LIMIT + 4}")


def test_text_that_is_not_xml_does_not_break_the_feed(app, client, w):
    execution(w.city, "in_works", now() + timedelta(days=20), "Nota\x0bcom\x01controle")
    parsed = _feed(client)
    assert parsed.entries[0].summary.endswith("Notacomcontrole")


def test_an_empty_feed_is_still_valid(app, client, app_ctx):
    parsed = _feed(client)
    assert parsed.entries == []
    assert parsed.feed.updated_parsed


def test_the_list_page_announces_its_feeds(app, client, w):
    html = client.get("/obras?regiao=norte").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/obras/feed.atom?regiao=norte"' in html
