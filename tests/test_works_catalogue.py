"""The "Obras do OP" list: which works it shows, its filters and pages, the summary per region,
the CSV download and the API list (against the OpenAPI document)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import lxml.html
import pytest

from opdigital.clock import today_in_city
from opdigital.cycles.models import CycleKind
from opdigital.errors import DomainError, NotFound
from opdigital.proposals.models import ExecutionStatus
from opdigital.text_safety import FORMULA_STARTS
from opdigital.works import catalogue
from opdigital.works.catalogue import WorkFilter
from opdigital.works.catalogue_csv import CSV_COLUMNS
from tests.support import factories
from tests.support.api import SPEC, assert_error, assert_matches_spec
from tests.support.pages import page_problems
from tests.support.works_catalogue import world as works_world


@pytest.fixture
def w(app_ctx):
    return works_world()


def _codes(works) -> list[str]:
    return [work.proposal.code for work in works]


def _find(flt: WorkFilter | None = None) -> list[str]:
    return _codes(catalogue.find_works(flt or WorkFilter(), today_in_city()))


# --- which works, in which order ----------------------------------------------------------


def test_every_work_of_every_public_edition_and_kind_and_nothing_else(w):
    assert _find() == [
        "OPCA2025-0001",  # the latest edition first
        "OPD2024-0003",  # then by region: Barreiro
        "OPD2024-0001",  # Norte
        "OPD2024-0002",
        "OPD2024-0004",  # city-wide works last
    ]
    assert not set(_find()) & set(w.hidden)


def test_figures_come_from_the_milestones_and_the_status(w):
    works = {
        work.proposal.code: work for work in catalogue.find_works(WorkFilter(), today_in_city())
    }
    late = works[w.late.code]
    assert (late.progress.percent, late.progress.late, late.progress.done) == (25, True, 1)
    assert late.money.spent_percent == 25
    done = works[w.done.code]
    assert (done.progress.percent, done.progress.late) == (100, False)
    assert works[w.city.code].progress.late is False
    school_work = works[w.school_work.code]
    assert school_work.status == "not_started"  # no execution news yet
    assert school_work.region.slug == "barreiro"  # its school's region
    assert school_work.money.voted_cents == 80_000_00  # the reviewed cost


def test_summary_per_region_counts_status_and_lateness(w):
    found = catalogue.build_catalogue(WorkFilter(), today_in_city())
    rows = {(r.region.slug if r.region else None): r for r in found.regions}
    assert list(rows) == ["barreiro", "norte", None]
    assert rows["barreiro"].by_status == {
        "not_started": 1,
        "tendering": 0,
        "in_works": 0,
        "done": 0,
        "cancelled": 1,
    }
    assert (rows["norte"].total, rows["norte"].by_status["in_works"]) == (2, 1)
    assert (rows["norte"].by_status["done"], rows["norte"].late) == (1, 1)
    assert rows[None].by_status["tendering"] == 1
    assert (found.totals.total, found.totals.late) == (5, 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"regiao": "norte"}, ["OPD2024-0001", "OPD2024-0002"]),
        ({"regiao": "barreiro"}, ["OPCA2025-0001", "OPD2024-0003"]),
        ({"situacao": "cancelled"}, ["OPD2024-0003"]),
        ({"situacao": "not_started"}, ["OPCA2025-0001"]),
        ({"atrasadas": "true"}, ["OPD2024-0001"]),
        ({"atrasadas": "false"}, ["OPCA2025-0001", "OPD2024-0003", "OPD2024-0002", "OPD2024-0004"]),
        ({"edicao": "2025"}, ["OPCA2025-0001"]),
        ({"edicao": "2026"}, []),  # only a closed cycle's work: its result is not known yet
        ({"tipo": "op-digital"}, ["OPD2024-0003", "OPD2024-0001", "OPD2024-0002", "OPD2024-0004"]),
        ({"regiao": "norte", "atrasadas": "false", "tipo": "op-digital"}, ["OPD2024-0002"]),
        ({"regiao": "", "situacao": "", "edicao": " ", "tipo": ""}, None),  # empty: no filter
    ],
)
def test_filters(w, args, expected):
    flt = catalogue.read_filter(args, catalogue.PAGE_NAMES)
    assert _find(flt) == (expected if expected is not None else _find())


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"situacao": "finished"}, "invalid_status"),
        ({"atrasadas": "maybe"}, "invalid_late"),
        ({"edicao": "dois mil"}, "invalid_edition"),
        ({"edicao": "0"}, "invalid_edition"),
        ({"edicao": "٢٠٢٤"}, "invalid_edition"),  # digits of another script
        ({"edicao": "20245"}, "invalid_edition"),
        ({"tipo": "op-nacional"}, "invalid_kind"),
    ],
)
def test_bad_filter_values_are_refused_with_a_code(app_ctx, args, code):
    with pytest.raises(DomainError) as refused:
        catalogue.read_filter(args, catalogue.PAGE_NAMES)
    assert (refused.value.status, refused.value.code) == (400, code)


def test_an_unknown_region_is_not_found(app_ctx):
    with pytest.raises(NotFound):
        catalogue.read_filter({"regiao": "atlantida"}, catalogue.PAGE_NAMES)


def test_filter_arguments_round_trip(w):
    flt = WorkFilter(region=w.north, status="done", late=False, edition=2024, kind="opca")
    for names in (catalogue.PAGE_NAMES, catalogue.API_NAMES):
        assert catalogue.read_filter(catalogue.filter_args(flt, names), names) == flt
    assert catalogue.filter_args(WorkFilter(), catalogue.PAGE_NAMES) == {}


def test_editions_with_works_latest_first(w):
    assert catalogue.editions() == [2025, 2024]


# --- the page -----------------------------------------------------------------------------


def _page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert page_problems(html) == []
    return lxml.html.fromstring(html)


def _table_codes(doc) -> list[str]:
    return [td.text_content().strip() for td in doc.xpath("//table[@id='works-list']//td[1]")]


def test_the_page_lists_the_works_with_their_figures(app, client, w, english_by_default):
    doc = _page(client, "/obras")
    assert _table_codes(doc) == _find()
    row = doc.xpath("//table[@id='works-list']//tr[td[1]='OPD2024-0001']")[0]
    cells = [c.text_content().strip() for c in row.xpath("td|th")]
    assert row.xpath(".//th/a/@href") == ["/propostas/OPD2024-0001"]
    assert cells[2].startswith("OP Digital 2024") and "Edition 2024" in cells[2]
    assert cells[3] == "Norte"
    assert "In works" in cells[4]
    assert cells[5] == "25%"
    assert cells[6].startswith("Late: a step was due on")
    assert "200,000.00" in cells[7] and "50,000.00" in cells[8]
    city = doc.xpath("//table[@id='works-list']//tr[td[1]='OPD2024-0004']")[0]
    assert "On schedule" in city.text_content() and "Whole city" in city.text_content()
    assert "Not reported" in city.text_content()  # nothing spent reported yet


def test_the_summary_table(app, client, w, english_by_default):
    doc = _page(client, "/obras")
    table = doc.xpath("//table[@id='works-summary']")[0]
    assert table.xpath("caption")[0].text_content().strip()
    headers = [th.text_content().strip() for th in table.xpath("thead//th")]
    assert headers == [
        "Region",
        "Works",
        "Not started",
        "Tendering",
        "In works",
        "Done",
        "Cancelled",
        "Late",
    ]
    rows = {
        tr.xpath("th")[0].text_content().strip(): [
            td.text_content().strip() for td in tr.xpath("td")
        ]
        for tr in table.xpath("tbody/tr|tfoot/tr")
    }
    assert rows == {
        "Barreiro": ["2", "1", "0", "0", "0", "1", "0"],
        "Norte": ["2", "0", "0", "1", "1", "0", "1"],
        "Whole city": ["1", "0", "1", "0", "0", "0", "0"],
        "All regions": ["5", "1", "1", "1", "1", "1", "1"],
    }


def test_the_filter_form_works_without_javascript(app, client, w):
    doc = _page(client, "/obras?regiao=norte&situacao=done&edicao=2024&tipo=op-digital")
    form = doc.xpath("//form[@role='search']")[0]
    assert form.get("method") == "get" and form.get("action") == "/obras"
    selected = {s.get("name"): s.xpath("option[@selected]/@value") for s in form.xpath(".//select")}
    assert selected == {
        "regiao": ["norte"],
        "situacao": ["done"],
        "atrasadas": [],
        "edicao": ["2024"],
        "tipo": ["op-digital"],
    }
    assert _table_codes(doc) == ["OPD2024-0002"]
    late_only = _page(client, "/obras?atrasadas=true")
    assert late_only.xpath("//select[@name='atrasadas']/option[@selected]/@value") == ["true"]
    assert _table_codes(late_only) == ["OPD2024-0001"]
    not_late = _page(client, "/obras?atrasadas=false")
    assert not_late.xpath("//select[@name='atrasadas']/option[@selected]/@value") == ["false"]


def test_links_to_the_downloads_feeds_and_map_keep_the_filters(app, client, w):
    doc = _page(client, "/obras?regiao=norte&atrasadas=true")
    links = doc.xpath("//*[@id='works-downloads']//a/@href")
    assert "/obras.csv?regiao=norte&atrasadas=true" in links
    assert "/api/v1/works.geojson?region=norte&late=true" in links
    assert "/api/v1/works?region=norte&late=true" in links
    assert "/obras/mapa?regiao=norte&atrasadas=true" in links
    assert {"/obras/feed.atom", "/obras/feed.atom?regiao=norte"} <= set(links)
    feeds = doc.xpath("//head/link[@rel='alternate'][@type='application/atom+xml']/@href")
    assert feeds == ["/obras/feed.atom", "/obras/feed.atom?regiao=norte"]


def test_an_empty_selection_says_so(app, client, w, english_by_default):
    doc = _page(client, "/obras?edicao=1999")
    assert not doc.xpath("//table")
    assert "No work matches these filters." in doc.text_content()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/obras?situacao=finished", 400),
        ("/obras?atrasadas=talvez", 400),
        ("/obras?edicao=-1", 400),
        ("/obras?tipo=x", 400),
        ("/obras?pagina=0", 400),
        ("/obras?pagina=dois", 400),
        ("/obras?regiao=atlantida", 404),
        ("/obras?pagina=2", 404),
        ("/obras.csv?situacao=finished", 400),
        ("/obras.csv?regiao=atlantida", 404),
    ],
)
def test_bad_addresses_are_clear_client_errors(app, client, w, english_by_default, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert page_problems(response.get_data(as_text=True)) == []


def test_pages_of_the_list(app, client, w, monkeypatch):
    monkeypatch.setattr(catalogue, "PAGE_SIZE", 2)
    everything = _find()
    first = _page(client, "/obras?tipo=")
    assert _table_codes(first) == everything[:2]
    assert first.xpath("//nav//a[@rel='next']/@href") == ["/obras?pagina=2"]
    assert not first.xpath("//nav//a[@rel='prev']")
    last = _page(client, "/obras?pagina=3")
    assert _table_codes(last) == everything[4:]
    assert last.xpath("//nav//a[@rel='prev']/@href") == ["/obras?pagina=2"]
    # The summary counts every work selected, not only the page's.
    totals = last.xpath("//table[@id='works-summary']/tfoot//td[1]")[0].text_content()
    assert totals.strip() == "5"
    filtered = _page(client, "/obras?regiao=barreiro&pagina=1")
    assert not filtered.xpath("//nav//a[@rel='next']")


def test_the_site_links_to_the_list(app, client, w):
    home = lxml.html.fromstring(client.get("/").get_data(as_text=True))
    assert home.xpath("//nav//a[@href='/obras']")
    assert home.xpath("//main//a[@id='works-link']/@href") == ["/obras"]


# --- the CSV ------------------------------------------------------------------------------


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="obras-do-op.csv"'
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_csv_has_a_row_per_work_with_its_figures(app, client, w):
    rows = _csv(client.get("/obras.csv"))
    assert [r["code"] for r in rows] == _find()
    assert list(rows[0]) == list(CSV_COLUMNS)
    late = next(r for r in rows if r["code"] == "OPD2024-0001")
    assert late == late | {
        "title": "Praça do Norte",
        "cycle": "OP Digital 2024",
        "edition": "2024",
        "cycle_kind": "op-digital",
        "region": "Norte",
        "execution_status": "in_works",
        "percent_done": "25",
        "late": "true",
        "milestones_done": "1",
        "milestones_total": "2",
        "voted_cost": "200000.00",
        "committed": "150000.00",
        "spent": "50000.00",
        "department": "Secretaria de Obras",
        "url": "http://localhost:5000/propostas/OPD2024-0001",
    }
    city = next(r for r in rows if r["code"] == "OPD2024-0004")
    assert (city["region"], city["spent"], city["late"]) == ("", "", "false")
    assert Decimal(city["voted_cost"]) > 0


def test_the_csv_follows_the_filters(app, client, w):
    rows = _csv(client.get("/obras.csv?regiao=barreiro&situacao=cancelled"))
    assert [r["code"] for r in rows] == ["OPD2024-0003"]


HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(1)", "\t=1"]


def test_the_csv_neutralises_formulas_in_every_text_column(app, app_ctx, client):
    region = factories.region(slug="formula", name="=1+1")
    cycle = factories.cycle(title="@cycle", edition=2024, state="published")
    for n, value in enumerate(HOSTILE):
        factories.proposal(
            cycle,
            code=f"F{n}",
            title=value,
            department=value,
            status="selected",
            execution_status="in_works",
            region_id=region.id,
        )
    rows = _csv(client.get("/obras.csv"))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        value = HOSTILE[int(row["code"][1:])]
        assert row["title"] == row["department"] == "'" + value
        assert (row["region"], row["cycle"]) == ("'=1+1", "'@cycle")
        for column in CSV_COLUMNS:
            assert not row[column].startswith(FORMULA_STARTS), column


# --- the API ------------------------------------------------------------------------------


def test_the_api_lists_the_works_as_documented(app, client, w):
    response = client.get("/api/v1/works")
    assert_matches_spec(response, "/api/v1/works", "get", 200)
    body = response.get_json()
    assert [work["code"] for work in body["works"]] == _find()
    late = next(work for work in body["works"] if work["code"] == "OPD2024-0001")
    assert late == late | {
        "region": "norte",
        "cycle": "op-2024",
        "edition": 2024,
        "cycle_kind": "op-digital",
        "execution_status": "in_works",
        "percent_done": 25,
        "late": True,
        "milestones_done": 1,
        "milestones_total": 2,
        "cost_cents": 200_000_00,
        "committed_cents": 150_000_00,
        "spent_cents": 50_000_00,
        "over_budget": False,
        "department": "Secretaria de Obras",
        "url": "http://localhost/propostas/OPD2024-0001",
    }
    school_work = next(work for work in body["works"] if work["code"] == "OPCA2025-0001")
    assert (school_work["region"], school_work["execution_status"]) == ("barreiro", "not_started")
    summary = body["summary"]
    assert [r["region"] for r in summary["regions"]] == ["barreiro", "norte", None]
    assert summary["totals"] == {
        "total": 5,
        "by_status": dict.fromkeys(catalogue.STATUSES, 1),
        "late": 1,
    }
    assert body["pagination"] == {"page": 1, "per_page": 50, "total": 5, "pages": 1}
    assert body["links"]["next"] is None and body["links"]["prev"] is None
    assert body["links"]["html"] == "http://localhost/obras"


def test_the_api_filters_and_pages(app, client, w):
    response = client.get("/api/v1/works?region=norte&late=false&kind=op-digital&edition=2024")
    assert_matches_spec(response, "/api/v1/works", "get", 200)
    assert [work["code"] for work in response.get_json()["works"]] == ["OPD2024-0002"]
    assert response.get_json()["links"]["html"] == (
        "http://localhost/obras?regiao=norte&atrasadas=false&edicao=2024&tipo=op-digital"
    )
    first = client.get("/api/v1/works?per_page=2&execution_status=")
    assert_matches_spec(first, "/api/v1/works", "get", 200)
    body = first.get_json()
    assert body["pagination"] == {"page": 1, "per_page": 2, "total": 5, "pages": 3}
    assert body["links"]["next"] == "http://localhost/api/v1/works?page=2&per_page=2"
    last = client.get("/api/v1/works?page=3&per_page=2").get_json()
    assert [work["code"] for work in last["works"]] == _find()[4:]
    assert last["links"]["next"] is None
    assert last["summary"]["totals"]["total"] == 5


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("execution_status=finished", 400, "invalid_status"),
        ("late=yes", 400, "invalid_late"),
        ("edition=abc", 400, "invalid_edition"),
        ("kind=op", 400, "invalid_kind"),
        ("page=0", 400, "invalid_page"),
        ("per_page=201", 400, "invalid_page"),
        ("region=atlantida", 404, "region_not_found"),
        ("page=2", 404, "page_not_found"),
    ],
)
def test_the_api_refuses_bad_arguments_as_documented(app, client, w, query, status, code):
    response = client.get(f"/api/v1/works?{query}")
    assert_error(response, status, code)
    assert_matches_spec(response, "/api/v1/works", "get", status)


def test_an_empty_list_is_a_page_of_nothing(app, client, app_ctx):
    response = client.get("/api/v1/works")
    assert_matches_spec(response, "/api/v1/works", "get", 200)
    assert response.get_json()["works"] == []
    assert response.get_json()["summary"]["regions"] == []


def test_the_document_s_enums_match_the_code():
    schemas = SPEC["components"]["schemas"]
    statuses = [s.value for s in ExecutionStatus]
    assert schemas["WorkListItem"]["properties"]["execution_status"]["enum"] == statuses
    assert schemas["WorkStatusCounts"]["required"] == statuses
    kinds = [k.value for k in CycleKind]
    assert schemas["WorkListItem"]["properties"]["cycle_kind"]["enum"] == kinds
    parameters = SPEC["components"]["parameters"]
    assert parameters["WorkStatusFilter"]["schema"]["enum"] == statuses
    assert parameters["CycleKindFilter"]["schema"]["enum"] == kinds
    assert parameters["WorkPageSize"]["schema"]["maximum"] == catalogue.MAX_PAGE_SIZE
