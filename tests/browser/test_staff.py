"""Staff in a real browser: a coordinator runs a whole cycle from its creation to published
results through the screens, and an auditor downloads a tally package and the audit log."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from opdigital.audit.export import CSV_COLUMNS
from opdigital.clock import CITY_TZ, now
from opdigital.extensions import db
from opdigital.ledger.verify import main as verify_main
from opdigital.proposals.models import Proposal
from tests.support import factories
from tests.support import voting as vs
from tests.support.browser import sign_in
from tests.support.live import request

pytestmark = pytest.mark.browser

SLUG = "op-digital-navegador"


def _staff_user(app, role: str) -> str:
    with app.app_context():
        email = factories.user(role).email
        db.session.remove()
    return email


def wait_for_path(page, path: str) -> None:
    """Wait until the page is at `path` (`*` matches one segment), whatever the fragment."""
    pattern = re.compile("^" + re.escape(path).replace(r"\*", "[^/]+") + "$")
    page.wait_for_url(lambda url: bool(pattern.match(urlsplit(url).path)))


def _submit(page) -> None:
    """Send the page's main form (staff forms have one submit button)."""
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_load_state()


def advance(page, target: str) -> None:
    """Press the cycle page's one "next state" button, checking it leads to `target`."""
    form = page.locator(f'form[action="/staff/cycles/{SLUG}/transition"]')
    assert form.locator("input[name=target]").get_attribute("value") == target
    form.locator("button").click()
    wait_for_path(page, f"/staff/cycles/{SLUG}")
    assert page.locator(".flash-error, .error-summary").count() == 0, page.inner_text("main")


def _local(moment) -> str:
    """What <input type="datetime-local"> takes, in Belo Horizonte time."""
    return moment.astimezone(CITY_TZ).strftime("%Y-%m-%dT%H:%M")


def enter_proposal(page, title: str, cost: str) -> str:
    page.goto(f"/staff/cycles/{SLUG}")
    page.locator(f'a[href="/staff/cycles/{SLUG}/proposals/new"]').first.click()
    page.fill("#title", title)
    page.fill("#description", f"{title}: obra pedida pela assembleia da regional.")
    page.select_option("#origin", "staff")
    page.fill("#estimated_cost", cost)
    _submit(page)
    wait_for_path(page, "/staff/proposals/*")
    return page.url.rsplit("/", 1)[1]


def review(page, code: str, decision: str, *, start_first: bool = False) -> None:
    page.goto(f"/staff/proposals/{code}")
    if start_first:
        page.locator(f'form[action="/staff/proposals/{code}/start-review"] button').click()
        wait_for_path(page, f"/staff/proposals/{code}")
    page.locator(f'a[href="/staff/proposals/{code}/review"]').click()
    page.fill("#technical_opinion", "Viável: terreno público, custo conferido.")
    page.check(f"input[name=decision][value={decision}]")
    if decision == "reject":
        page.fill("#rejection_reason", "Área de preservação ambiental.")
    _submit(page)
    wait_for_path(page, f"/staff/proposals/{code}")


def _ids(app, codes: list[str]) -> list[int]:
    with app.app_context():
        rows = dict(db.session.execute(sa.select(Proposal.code, Proposal.id)).all())
        db.session.remove()
    return [rows[code] for code in codes]


def test_coordinator_runs_a_cycle_to_published_results(app, page, live_server, shoot):
    sign_in(page, _staff_user(app, "coordinator"))

    # Create the cycle from the OP Digital template (its phases come with it).
    page.goto("/staff/")
    page.locator('a[href="/staff/cycles/new"]').click()
    page.select_option("#kind", "op-digital")
    page.fill("#title", "OP Digital no navegador")
    page.fill("#slug", SLUG)
    page.fill("#edition", "2026")
    page.fill("#total_budget", "2.500.000,00")
    page.fill("#min_voter_age", "16")
    page.fill("#start", now().astimezone(CITY_TZ).date().isoformat())
    _submit(page)
    wait_for_path(page, f"/staff/cycles/{SLUG}")

    # Phases: the template's vote is two months away; move it around now, and add one.
    page.locator('tr:has(th:text-is("Votação")) a[href$="/edit"]').click()
    page.fill("#starts_at", _local(now() - timedelta(days=1)))
    page.fill("#ends_at", _local(now() + timedelta(days=10)))
    _submit(page)
    wait_for_path(page, f"/staff/cycles/{SLUG}")
    page.locator(f'a[href="/staff/cycles/{SLUG}/phases/new"]').click()
    page.select_option("#kind", "caravans")
    page.fill("#name", "Caravanas de prioridades")
    page.fill("#starts_at", _local(now() + timedelta(days=20)))
    page.fill("#ends_at", _local(now() + timedelta(days=30)))
    _submit(page)
    wait_for_path(page, f"/staff/cycles/{SLUG}")
    assert page.locator('th:text-is("Caravanas de prioridades")').count() == 1

    # Proposals entered by staff, then reviewed: two accepted, one rejected with a reason.
    advance(page, "open_for_proposals")
    codes = [
        enter_proposal(page, "Praça da Vila Pinho", "1.000.000,00"),
        enter_proposal(page, "Ciclovia da Avenida", "1.200.000,00"),
        enter_proposal(page, "Academia a céu aberto", "2.000.000,00"),
    ]
    page.goto(f"/staff/cycles/{SLUG}")
    advance(page, "under_review")
    review(page, codes[0], "accept", start_first=True)
    review(page, codes[1], "reject")
    review(page, codes[2], "accept")

    # Voting settings: one choice from the whole city, counted greedily within the budget.
    page.goto(f"/staff/cycles/{SLUG}")
    page.locator(f'a[href="/staff/cycles/{SLUG}/voting-settings"]').click()
    page.check("input[name=ballot_rule][value=one-city-wide]")
    page.check("input[name=counting_rule][value=greedy]")
    page.check("input[name=registry_scope][value=city]")
    _submit(page)
    wait_for_path(page, f"/staff/cycles/{SLUG}/voting-settings")
    assert page.locator(".flash-success").count() == 1, page.inner_text("main")
    page.goto(f"/staff/cycles/{SLUG}")
    advance(page, "ballot_frozen")
    advance(page, "voting")
    shoot(page, "staff-cycle")

    # Three citizens vote through the API: two for the first proposal, one for the third.
    accepted, rejected, expensive = _ids(app, codes)
    voters = [vs.make_titulo(n) for n in (4301, 4302, 4303)]
    with app.app_context():
        for number in voters:
            vs.register(number)
        db.session.remove()
    url = f"{live_server}/api/v1/cycles/{SLUG}/ballots"
    for number, choice in zip(voters, (accepted, accepted, expensive), strict=True):
        status, _headers, answer = request("POST", url, vs.body(number, [choice]))
        assert status == 201, answer
    status, _headers, answer = request("POST", url, vs.body(voters[0], [rejected]))
    assert status in (409, 422), answer  # neither a second vote nor a rejected proposal

    advance(page, "closed")
    assert page.locator("#board .board-seq").inner_text() == "3"
    advance(page, "tallied")
    assert page.locator("#tally .tally-ballots").inner_text() == "3"
    assert len(page.locator("#tally .tally-sha256").inner_text()) == 64
    advance(page, "published")
    shoot(page, "staff-cycle-published")

    # The public results: the first proposal won; the third did not fit in what was left.
    page.goto(f"/ciclos/{SLUG}")
    page.locator("#results-link").click()
    wait_for_path(page, f"/ciclos/{SLUG}/resultados")
    winners = page.locator("li.winner")
    assert [w.get_attribute("data-proposal-id") for w in winners.all()] == [str(accepted)]
    selected = {
        row.get_attribute("data-proposal-id"): row.get_attribute("data-selected")
        for row in page.locator("tr[data-proposal-id]").all()
    }
    assert selected == {str(accepted): "true", str(expensive): "false"}
    votes = page.locator(f'tr[data-proposal-id="{accepted}"] td.votes').inner_text()
    assert votes == "2"
    shoot(page, "results")


def test_auditor_downloads_the_package_and_the_log(app, counted_cycle, page, tmp_path, shoot):
    cycle = counted_cycle(publish=False)  # auditors see a package before publication too
    sign_in(page, _staff_user(app, "auditor"))
    page.goto("/audit/tallies")
    row = page.locator(f"#tally-{cycle.slug}")
    assert row.count() == 1
    shoot(page, "auditor")

    with page.expect_download() as info:
        row.locator("a.tally-download").click()
    package = tmp_path / "downloaded.zip"
    info.value.save_as(package)
    assert package.read_bytes() == cycle.package.read_bytes()  # byte for byte as signed
    assert verify_main([str(package)]) == 0
    assert row.locator(".tally-sha256").inner_text() == _sha256(package)

    with page.expect_download() as info:
        page.locator('a[href="/audit/export.csv"]').first.click()
    table = list(csv.reader(io.StringIO(_read(info.value, tmp_path / "log.csv"))))
    assert table[0] == CSV_COLUMNS
    actions = [line[CSV_COLUMNS.index("action")] for line in table[1:]]
    assert actions, "the audit log is empty"

    with page.expect_download() as info:
        page.locator('a[href="/audit/export.json"]').first.click()
    entries = json.loads(_read(info.value, tmp_path / "log.json"))
    assert [e["action"] for e in entries] == actions  # the same log in both formats


def _read(download, path) -> str:
    download.save_as(path)
    return path.read_text(encoding="utf-8")


def _sha256(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
