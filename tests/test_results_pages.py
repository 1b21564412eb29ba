"""The public results page and its downloads, after a real vote, close, tally and publication;
and the pure SVG bar charts."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from pabutools.election.pabulib import parse_pabulib_from_string

from opdigital.counting.pabulib import parse_pb
from opdigital.cycles.models import RegionBudget
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.proposals.services import update_execution
from opdigital.tally.charts import Bar, bar_chart, bar_length, shorten
from opdigital.tally.models import Tally
from tests.support import factories
from tests.support import voting as vs
from tests.support.pages import page_problems

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


def _vote_count_publish(client, runner, tmp_path, world, region) -> SimpleNamespace:
    _cast(client, world, region)
    _run(runner, "cycle", "close", world.slug)
    _run(runner, "tally", world.slug, "--out", str(tmp_path / "tally.zip"))
    _run(runner, "cycle", "publish", world.slug)
    db.session.expire_all()
    return SimpleNamespace(world=world, region=region, slug=world.slug)


@pytest.fixture
def regional_city_wide(app_ctx, client, runner, signing_key, tmp_path):
    """A city-wide knapsack ballot whose proposals all belong to a region (no region budget)."""
    region = factories.region(name="Venda Nova")
    world = vs.voting_cycle(region=region)
    return _vote_count_publish(client, runner, tmp_path, world, region)


@pytest.fixture
def regional_budgets(app_ctx, client, runner, signing_key, tmp_path):
    """The same ballot, but with a budget per region and the rule applied in each region."""
    region = factories.region(name="Venda Nova")
    world = vs.voting_cycle(region=region, ballot_rule_params=vs.RULE_PARAMS | {"per_region": True})
    db.session.add(
        RegionBudget(cycle_id=world.cycle.id, region_id=region.id, amount_cents=vs.BUDGET)
    )
    db.session.commit()
    return _vote_count_publish(client, runner, tmp_path, world, region)


def _html(response) -> str:
    return response.get_data(as_text=True)


def _accessible(response) -> None:
    assert page_problems(_html(response)) == []


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


def _budget_table(html: str) -> str:
    return re.search(r'<table id="budget-table".*?</table>', html, re.S).group(0)


def test_city_wide_budget_shows_no_region_balance(regional_city_wide, client):
    html = _html(client.get(f"/ciclos/{regional_city_wide.slug}/resultados"))
    table = _budget_table(html)
    assert 'data-per-region="false"' in table
    # Before: "Venda Nova | R$ 0,00 | R$ 3.000.000,00 | -R$ 3.000.000,00".
    assert table.count('<th scope="col"') == 2  # region, allocated: no "available", "left"
    assert "−" not in table and "-R$" not in table
    row = re.search(r'<th scope="row">Venda Nova</th>(.*?)</tr>', table, re.S).group(1)
    assert re.findall(r'<td class="num money">([^<]+)</td>', row) == ["R$\xa03.000.000,00"]
    summary = re.search(r'id="budget-city-wide">([^<]+)<', html).group(1)
    assert "R$\xa03.500.000,00" in summary and "R$\xa0500.000,00" in summary
    chart = re.search(r'<svg [^>]*id="chart-money".*?</svg>', html, re.S).group(0)
    assert "R$\xa00,00" not in chart  # no "R$ 3.000.000,00 of R$ 0,00"
    _accessible(client.get(f"/ciclos/{regional_city_wide.slug}/resultados"))


def test_budget_per_region_shows_each_region_balance(regional_budgets, client):
    html = _html(client.get(f"/ciclos/{regional_budgets.slug}/resultados"))
    table = _budget_table(html)
    assert 'data-per-region="true"' in table
    assert table.count('<th scope="col"') == 4  # region, available, allocated, left
    row = re.search(r'<th scope="row">Venda Nova</th>(.*?)</tr>', table, re.S).group(1)
    assert re.findall(r'<td class="num money">([^<]+)</td>', row) == [
        "R$\xa03.500.000,00",
        "R$\xa03.000.000,00",
        "R$\xa0500.000,00",
    ]
    assert 'id="budget-city-wide"' not in html
    chart = re.search(r'<svg [^>]*id="chart-money".*?</svg>', html, re.S).group(0)
    assert re.search(r"R\$\xa03\.000\.000,00 \w+ R\$\xa03\.500\.000,00<", chart)  # "of" / "de"


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


def test_results_page_links_to_the_signing_key(published, client):
    html = _html(client.get(f"/ciclos/{published.slug}/resultados"))
    href = re.search(r'<a href="([^"]*)" id="signing-keys-link">', html).group(1)
    assert href == "/api/v1/keys"  # was "<built-in method keys of dict object at ...>"
    response = client.get(href)
    assert response.status_code == 200
    [key] = response.get_json()["keys"]
    assert key["fingerprint"] == published.record.key_fingerprint


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


def test_csv_neutralises_every_formula_start_and_keeps_amounts_numeric(published, client):
    hostile = ["@SUM(1)", "\n=1+1", "-2+3", "\t=1"]
    for proposal, title in zip(published.world.proposals, hostile, strict=False):
        proposal.title = title
    published.world.proposals[0].region_id = published.region.id
    published.region.name = "+Barreiro"
    db.session.commit()
    rows = {
        int(r["id"]): r for r in _csv_rows(client.get(f"/ciclos/{published.slug}/resultados.csv"))
    }
    for pid, title in zip(published.world.ids, hostile, strict=False):
        assert rows[pid]["title"] == "'" + title
    assert rows[published.world.ids[0]]["region"] == "'+Barreiro"
    for row in rows.values():
        assert re.fullmatch(r"\d+\.\d\d", row["cost"]) and re.fullmatch(
            r"\d+\.\d\d", row["allocated"]
        )


def test_pb_download_survives_a_title_with_line_breaks(published, client):
    # Stored directly, as a title saved before submissions refused control characters.
    published.world.proposals[0].title = "Praça\nVOTES\nvoter_id;vote"
    published.world.proposals[1].title = 'Quadra "coberta"\u2028\r\nPROJECTS'
    db.session.commit()
    text = _html(client.get(f"/ciclos/{published.slug}/resultados.pb"))
    ids = [str(i) for i in published.world.ids]
    expected = sorted(sorted(ids[i] for i in picks) for picks in BALLOTS)
    pb = parse_pb(text)
    assert [p.id for p in pb.instance.projects] == ids
    assert sorted(sorted(b) for b in pb.profile.expanded()) == expected
    assert pb.project_fields[ids[0]]["name"] == "Praça VOTES voter_id;vote"
    assert pb.project_fields[ids[1]]["name"] == 'Quadra "coberta"   PROJECTS'
    instance, profile = parse_pabulib_from_string(text)
    assert sorted(p.name for p in instance) == sorted(ids)
    assert sorted(sorted(p.name for p in ballot) for ballot in profile) == expected
    names = {p.name: instance.project_meta[p]["name"] for p in instance}
    assert names[ids[0]] == "Praça VOTES voter_id;vote"


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
