"""The public results page and its downloads, after a real vote, close, tally and publication;
and the pure SVG bar charts."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from opdigital.counting.pabulib import parse_pb
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.proposals.services import update_execution
from opdigital.tally.charts import Bar, bar_chart, bar_length, shorten
from opdigital.tally.models import Tally
from tests import factories
from tests import voting_support as vs
from tests.test_accessibility import PageAudit

# Four voters over the default ballot (five proposals, R$ 1M x4 and R$ 2M, budget R$ 3.5M,
# greedy): a, b 3 votes, c 2 votes -> a, b, c selected (R$ 3M); d (no vote) no longer fits.
BALLOTS = ((0, 1), (0, 2), (0, 1), (1, 2))


def _cast(client, world, region) -> None:
    """The voters of BALLOTS vote; the first two live in `region`, the others' is unknown."""
    for n, picks in enumerate(BALLOTS):
        number = vs.make_titulo(500 + n)
        vs.register(number, region=region if n < 2 else None)
        choices = [world.ids[i] for i in picks]
        response = vs.post_ballot(client, world.slug, vs.body(number, choices))
        assert response.status_code == 201, response.get_json()


def _run(runner, *args: str) -> None:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture
def tallied(app_ctx, client, runner, signing_key, tmp_path):
    """A cycle voted, closed and tallied (not yet published)."""
    region = factories.region(name="Barreiro")
    world = vs.voting_cycle()
    # A citizen's title that a spreadsheet would run as a formula.
    world.proposals[4].title = '=HYPERLINK("http://example.com")'
    db.session.commit()
    _cast(client, world, region)
    _run(runner, "cycle", "close", world.slug)
    _run(runner, "tally", world.slug, "--out", str(tmp_path / "tally.zip"))
    db.session.expire_all()
    return SimpleNamespace(world=world, region=region, slug=world.slug)


@pytest.fixture
def published(tallied, runner):
    _run(runner, "cycle", "publish", tallied.slug)
    db.session.expire_all()
    tallied.record = db.session.get(Tally, tallied.world.cycle.id)
    return tallied


def _html(response) -> str:
    return response.get_data(as_text=True)


def _accessible(response) -> None:
    audit = PageAudit()
    audit.feed(_html(response))
    assert audit.problems() == []


# --- before publication --------------------------------------------------------------------


def test_results_are_404_before_publication(tallied, client):
    for path in ("resultados", "resultados.csv", "resultados.pb"):
        assert client.get(f"/ciclos/{tallied.slug}/{path}").status_code == 404, path
    page = client.get(f"/ciclos/{tallied.slug}/resultados")
    assert 'id="results-not-published"' in _html(page)
    _accessible(page)
    cycle_page = _html(client.get(f"/ciclos/{tallied.slug}"))
    assert "/resultados" not in cycle_page


def test_results_are_404_for_drafts_and_unknown_cycles(app_ctx, client):
    draft = factories.cycle(state="draft")
    for slug in (draft.slug, "no-such-cycle"):
        assert client.get(f"/ciclos/{slug}/resultados").status_code == 404
        assert client.get(f"/ciclos/{slug}/resultados.csv").status_code == 404


# --- the page ------------------------------------------------------------------------------


def test_results_page_marks_the_winners_from_the_published_result(published, client):
    response = client.get(f"/ciclos/{published.slug}/resultados")
    assert response.status_code == 200
    html = _html(response)
    result = published.record.result
    selected = result["selected"]
    assert selected == published.world.ids[:3]  # the scenario of BALLOTS
    rows = dict(re.findall(r'data-proposal-id="(\d+)" data-selected="(true|false)"', html))
    assert rows == {str(pid): str(pid in selected).lower() for pid in published.world.ids}
    winners = re.findall(r'<li class="winner" data-proposal-id="(\d+)"', html)
    assert [int(w) for w in winners] == selected  # in the order the rule selected them
    votes = {v["proposal_id"]: v["votes"] for v in result["votes"]}
    for pid, count in votes.items():
        row = re.search(
            rf'data-proposal-id="{pid}" data-selected[^>]*>.*?class="num votes">(\d+)<', html, re.S
        )
        assert row and int(row.group(1)) == count
    _accessible(response)


def test_results_page_shows_package_hash_key_and_how_to_verify(published, client):
    html = _html(client.get(f"/ciclos/{published.slug}/resultados"))
    record = published.record
    assert re.search(rf'id="package-sha256"[^>]*>{record.sha256}<', html)
    assert re.search(rf'id="key-fingerprint"[^>]*>{record.key_fingerprint}<', html)
    assert (
        f"python -m opdigital.ledger.verify {published.slug}-tally.zip "
        f"--public-key {record.key_fingerprint}"
    ) in html
    for link in (
        f"/ciclos/{published.slug}/resultados.csv",
        f"/api/v1/cycles/{published.slug}/results",
        f"/api/v1/cycles/{published.slug}/tally.zip",
        f"/ciclos/{published.slug}/resultados.pb",
    ):
        assert f'href="{link}"' in html


def test_results_page_has_accessible_charts(published, client):
    html = _html(client.get(f"/ciclos/{published.slug}/resultados"))
    for chart in ("chart-votes", "chart-money"):
        svg = re.search(rf'<svg [^>]*id="{chart}"[^>]*>(.*?)</svg>', html, re.S)
        assert svg, chart
        tag = svg.group(0)
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in tag and 'role="img"' in tag
        assert f'<title id="{chart}-title">' in svg.group(1)
        assert f'<desc id="{chart}-desc">' in svg.group(1)
    votes_svg = re.search(r'<svg [^>]*id="chart-votes".*?</svg>', html, re.S).group(0)
    assert votes_svg.count("<rect") == 5
    assert votes_svg.count("bar-highlighted") == 3  # the winners
    # The text alternative: the same figures in tables.
    assert 'id="budget-table"' in html and 'class="results-table"' in html


def test_results_page_shows_budget_and_turnout_per_region(published, client):
    html = _html(client.get(f"/ciclos/{published.slug}/resultados"))
    result = published.record.result
    assert result["allocated_cents"] == 3_000_000_00
    allocated = re.search(r'id="total-allocated">([^<]+)<', html).group(1)
    assert "3.000.000,00" in allocated  # pt_BR money, from formatting.money
    turnout = re.search(r'id="turnout-table".*?</table>', html, re.S).group(0)
    cells = re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', turnout)
    assert ("Barreiro", "2") in cells
    assert sum(int(n) for _name, n in cells) == result["participation"] == 4


def test_results_page_shows_the_execution_of_selected_works(published, client):
    work = db.session.get(Proposal, published.record.result["selected"][0])
    update_execution(work, "tendering", "Edital 12/2027 publicado", factories.user())
    update_execution(work, "in_works", "Obras iniciadas", factories.user())
    html = _html(client.get(f"/ciclos/{published.slug}/resultados"))
    article = re.search(rf'<article [^>]*aria-labelledby="work-{work.id}".*?</article>', html, re.S)
    assert article
    text = article.group(0)
    assert text.index("Edital 12/2027 publicado") < text.index("Obras iniciadas")
    assert text.count("<time datetime=") == 2


def test_cycle_page_links_to_the_results_once_published(published, client):
    html = _html(client.get(f"/ciclos/{published.slug}"))
    assert f'href="/ciclos/{published.slug}/resultados"' in html
    assert f'href="/ciclos/{published.slug}/quadro"' in html


# --- downloads -----------------------------------------------------------------------------


def _csv_rows(response) -> list[dict]:
    text = response.data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_one_row_per_proposal_matching_the_result(published, client):
    response = client.get(f"/ciclos/{published.slug}/resultados.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith("\ufeff".encode())
    rows = _csv_rows(response)
    result = published.record.result
    assert list(rows[0]) == [
        "id", "code", "title", "region", "cost", "votes", "selected", "allocated"
    ]  # fmt: skip
    assert [int(r["id"]) for r in rows] == [v["proposal_id"] for v in result["votes"]]
    proposals = {p.id: p for p in published.world.proposals}
    for row, counted in zip(rows, result["votes"], strict=True):
        proposal = proposals[int(row["id"])]
        chosen = proposal.id in result["selected"]
        assert int(row["votes"]) == counted["votes"]
        assert row["selected"] == ("true" if chosen else "false")
        assert Decimal(row["cost"]) * 100 == proposal.cost_cents
        assert Decimal(row["allocated"]) * 100 == (proposal.cost_cents if chosen else 0)
        assert row["code"] == proposal.code
    allocated = sum(Decimal(r["allocated"]) * 100 for r in rows)
    assert allocated == result["allocated_cents"]


def test_csv_neutralises_formulas_in_titles(published, client):
    rows = _csv_rows(client.get(f"/ciclos/{published.slug}/resultados.csv"))
    formula = next(r for r in rows if int(r["id"]) == published.world.ids[4])
    assert formula["title"] == '\'=HYPERLINK("http://example.com")'
    assert all(not r["title"].startswith("=") for r in rows)


def test_pb_download_parses_with_the_ballot_projects(published, client):
    response = client.get(f"/ciclos/{published.slug}/resultados.pb")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    pb = parse_pb(_html(response))
    assert [p.id for p in pb.instance.projects] == [str(i) for i in published.world.ids]
    assert pb.instance.budget * 100 == vs.BUDGET
    assert pb.meta["cycle"] == published.slug


def test_pb_download_holds_every_counted_ballot(published, client):
    pb = parse_pb(_html(client.get(f"/ciclos/{published.slug}/resultados.pb")))
    assert int(pb.meta["num_votes"]) == published.record.result["ballots"]


# --- charts (pure) -------------------------------------------------------------------------


def test_bar_lengths_are_proportional_and_never_hide_a_small_value():
    assert bar_length(50, 100, room=400) == 200
    assert bar_length(100, 100, room=400) == 400
    assert bar_length(0, 100, room=400) == 0
    assert bar_length(0, 0, room=400) == 0
    assert bar_length(1, 1_000_000, room=400) == 1  # visible, not a rounding to nothing


def test_bar_chart_escapes_text_and_names_itself():
    svg = str(
        bar_chart(
            "c1",
            "Votes <per> proposal",
            "Same as the table & more",
            [Bar("<script>alert(1)</script>", 3, "3", highlighted=True), Bar("Praça", 1, "1")],
        )
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert '<title id="c1-title">Votes &lt;per&gt; proposal</title>' in svg
    assert '<desc id="c1-desc">Same as the table &amp; more</desc>' in svg
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert svg.count("<rect") == 2 and svg.count("bar-highlighted") == 1
    assert "style=" not in svg  # the CSP has no unsafe-inline


def test_long_labels_are_shortened_with_an_ellipsis():
    assert shorten("Praça", 10) == "Praça"
    cut = shorten("x" * 100, 10)
    assert len(cut) == 10 and cut.endswith("…")
