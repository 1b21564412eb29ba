"""Public pages: home, cycle page with its filters, proposals by region, proposal detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opdigital.cycles.models import RegionBudget
from opdigital.extensions import db
from opdigital.proposals.models import ProposalHistory
from tests.support import factories

T0 = datetime(2026, 5, 10, 15, 0, tzinfo=UTC)  # 12:00 in Belo Horizonte
DAY = timedelta(days=1)
SECRET_CONTACT = "segredo.autor@example.com"


def html(response) -> str:
    return response.get_data(as_text=True)


# These tests read English text; test_i18n checks the Portuguese default.
pytestmark = pytest.mark.usefixtures("english_by_default")


@pytest.fixture
def city(app_ctx, time_machine):
    """Two regions, an open OP Regional cycle with events, a draft and an upcoming cycle."""
    time_machine.move_to(T0, tick=False)
    barreiro = factories.region(slug="barreiro", name="Barreiro")
    leste = factories.region(slug="leste", name="Leste")
    regional = factories.cycle(
        slug="op-regional-2026",
        kind="op-regional",
        title="OP Regional 2027/2028",
        edition=2026,
        state="open_for_proposals",
        total_budget_cents=123_456_789_00,
        description="Primeiro parágrafo do ciclo.\n\nSegundo parágrafo.",
        phases=[
            ("proposals", T0 - 5 * DAY, T0 + 10 * DAY),
            ("voting", T0 + 30 * DAY, T0 + 40 * DAY),
            ("assemblies", T0 - 60 * DAY, T0 - 30 * DAY),
        ],
    )
    db.session.add_all(
        [
            RegionBudget(cycle=regional, region=barreiro, amount_cents=7_500_000_00),
            RegionBudget(cycle=regional, region=leste, amount_cents=6_250_000_50),
        ]
    )
    db.session.commit()
    factories.event(
        regional,
        title="Assembleia do Barreiro",
        region=barreiro,
        starts_at=T0 + 2 * DAY,
        place="Escola Municipal do Barreiro",
    )
    factories.event(
        regional, kind="caravan", title="Caravana da Leste", region=leste, starts_at=T0 + 3 * DAY
    )
    factories.event(
        regional,
        kind="regional_forum",
        title="Fórum Regional de Prioridades",
        starts_at=T0 + 20 * DAY,
        place="Câmara Municipal",
    )
    factories.event(regional, title="Assembleia já realizada", starts_at=T0 - 10 * DAY)
    draft = factories.cycle(
        slug="rascunho",
        title="Ciclo Rascunho Secreto",
        state="draft",
        phases=[("proposals", T0 - DAY, T0 + DAY)],
    )
    factories.event(draft, title="Evento do rascunho", starts_at=T0 + DAY)
    digital = factories.cycle(
        slug="op-digital-2026",
        title="OP Digital 2026",
        state="under_review",
        phases=[("voting", T0 + 15 * DAY, T0 + 45 * DAY)],
    )
    return {
        "barreiro": barreiro,
        "leste": leste,
        "regional": regional,
        "draft": draft,
        "digital": digital,
    }


# --- home ----------------------------------------------------------------------------------


def test_home_empty_state(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No cycles yet" in html(response)


def test_home_groups_cycles_and_lists_upcoming_events(client, city):
    factories.cycle(
        slug="op-2011",
        title="OP Digital 2011",
        state="monitoring",
        phases=[("voting", T0 - 400 * DAY, T0 - 380 * DAY)],
    )
    page = html(client.get("/"))
    now_section, _, rest = page.partition('id="others-title"')
    # The open cycle is "happening now" with its current phase and the phase's end.
    assert "OP Regional 2027/2028" in now_section
    assert "Proposals" in now_section  # factory names phases kind.title()
    assert 'datetime="2026-05-20T15:00:00+00:00"' in now_section  # proposals phase end
    # The cycle under review has nothing under way: it shows its next phase and start date.
    assert "OP Digital 2026" in rest
    assert "Voting" in rest and 'datetime="2026-05-25T15:00:00+00:00"' in rest
    # A cycle whose calendar is over comes after those with something still to come.
    assert rest.index("OP Digital 2026") < rest.index("OP Digital 2011")
    assert "The calendar of this cycle is over." in rest
    # Events: upcoming ones of public cycles only, soonest first.
    events = page.partition('id="events-title"')[2]
    assert events.index("Assembleia do Barreiro") < events.index("Caravana da Leste")
    assert "Fórum Regional de Prioridades" in events
    assert "Assembleia já realizada" not in events
    # Drafts are never public.
    assert "Ciclo Rascunho Secreto" not in page and "Evento do rascunho" not in page
    assert '/ciclos/op-regional-2026"' in page


# --- language ------------------------------------------------------------------------------


def test_language_switch_sets_session_and_goes_back(client):
    # No app context held by the test here: Flask-Babel caches the locale on the app context.
    response = client.get("/lang/en?next=/ciclos/op-regional-2026?regiao=leste")
    assert response.status_code == 302
    assert response.headers["Location"] == "/ciclos/op-regional-2026?regiao=leste"
    with client.session_transaction() as session:
        assert session["lang"] == "en"
    assert '<html lang="en">' in html(client.get("/"))
    client.get("/lang/pt_BR?next=/")
    assert '<html lang="pt-BR">' in html(client.get("/"))


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example"])
def test_language_switch_refuses_open_redirect(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_unknown_language_is_404(client):
    response = client.get("/lang/xx?next=/")
    assert response.status_code == 404
    with client.session_transaction() as session:
        assert "lang" not in session


# --- cycle page ----------------------------------------------------------------------------


def test_cycle_page_shows_budget_timeline_and_events(client, city):
    response = client.get("/ciclos/op-regional-2026")
    assert response.status_code == 200
    page = html(response)
    assert "<h1>OP Regional 2027/2028</h1>" in page
    assert "OP Regional" in page and "2026" in page
    assert "Open for proposals" in page  # state badge
    assert "Primeiro parágrafo do ciclo." in page and "Segundo parágrafo." in page
    assert "R$123,456,789.00" in page  # total budget
    budget = page.partition('id="budget-title"')[2]
    assert "Barreiro" in budget and "R$7,500,000.00" in budget
    assert "Leste" in budget and "R$6,250,000.50" in budget
    # Timeline: phase statuses relative to the clock.
    timeline = page.partition('id="phases-title"')[2].partition("</ol>")[0]
    assert timeline.count('class="is-current"') == 1
    assert timeline.count('class="is-upcoming"') == 1
    assert timeline.count('class="is-past"') == 1
    assert "Happening now" in timeline and "Upcoming" in timeline and "Finished" in timeline
    # Events with kind, place and region.
    assert "Caravan (site visit)" in page and "Regional Priorities Forum" in page
    assert "Escola Municipal do Barreiro" in page
    assert "Whole city" in page
    # OP Regional: a schedule per region is one click away.
    assert 'href="/ciclos/op-regional-2026?regiao=leste"' in page
    # Open for proposals with the phase under way: the call to action is there.
    assert "/ciclos/op-regional-2026/propostas/nova" in page
    assert "/ciclos/op-regional-2026/propostas" in page


def test_cycle_page_region_filter_keeps_region_and_city_events(client, city):
    page = html(client.get("/ciclos/op-regional-2026?regiao=barreiro"))
    events = page.partition('id="events-title"')[2].partition('id="subscribe-title"')[0]
    assert "Assembleia do Barreiro" in events
    assert "Fórum Regional de Prioridades" in events  # city-wide events stay
    assert "Caravana da Leste" not in events
    assert '<option value="barreiro" selected>' in page
    # Subscribe links follow the filter.
    assert "http://localhost/api/v1/cycles/op-regional-2026/schedule.ics?region=barreiro" in page
    assert "webcal://localhost/api/v1/cycles/op-regional-2026/schedule.ics?region=barreiro" in page
    assert "/api/v1/cycles/op-regional-2026/schedule?region=barreiro" in page


def test_cycle_page_unfiltered_feeds_have_no_filter(client, city):
    page = html(client.get("/ciclos/op-regional-2026"))
    assert 'href="webcal://localhost/api/v1/cycles/op-regional-2026/schedule.ics"' in page
    assert 'href="/api/v1/cycles/op-regional-2026/schedule"' in page
    assert "Caravana da Leste" in page and "Assembleia do Barreiro" in page


@pytest.mark.parametrize(
    "url",
    [
        "/ciclos/rascunho",
        "/ciclos/nao-existe",
        "/ciclos/op-regional-2026?regiao=atlantida",
        "/ciclos/rascunho/propostas",
        "/ciclos/nao-existe/propostas",
        "/ciclos/op-regional-2026/propostas?regiao=atlantida",
        "/propostas/NAO-EXISTE",
    ],
)
def test_not_public_or_unknown_is_404(client, city, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "We could not find this page." in html(response)


def test_opca_school_filter(client, app_ctx, time_machine):
    time_machine.move_to(T0, tick=False)
    norte = factories.region(slug="norte", name="Norte")
    oeste = factories.region(slug="oeste", name="Oeste")
    esc_a = factories.school(norte, slug="em-a", name="EM Aurora")
    esc_b = factories.school(oeste, slug="em-b", name="EM Bela Vista")
    opca = factories.cycle(slug="opca-2026", kind="opca", title="OPCA 2026", state="under_review")
    factories.event(opca, kind="school_assembly", title="Assembleia na Aurora", school=esc_a)
    factories.event(opca, kind="school_assembly", title="Assembleia na Bela Vista", school=esc_b)
    factories.event(opca, title="Encontro da regional Norte", region=norte)
    factories.event(opca, kind="comforca_election", title="Eleição da Comforça Escolar")

    page = html(client.get("/ciclos/opca-2026"))
    assert 'name="escola"' in page and "EM Bela Vista" in page
    assert "/ciclos/opca-2026?escola=em-a" in page  # quick links by school
    assert "Comforça election" in page and "School assembly" in page

    page = html(client.get("/ciclos/opca-2026?escola=em-a"))
    events = page.partition('id="events-title"')[2].partition('id="subscribe-title"')[0]
    assert "Assembleia na Aurora" in events
    assert "Encontro da regional Norte" in events  # the school's region
    assert "Eleição da Comforça Escolar" in events  # the whole city
    assert "Assembleia na Bela Vista" not in events
    assert "schedule.ics?school=em-a" in page

    page = html(client.get("/ciclos/opca-2026?regiao=oeste"))
    events = page.partition('id="events-title"')[2].partition('id="subscribe-title"')[0]
    assert "Assembleia na Bela Vista" in events
    assert "Assembleia na Aurora" not in events and "Encontro da regional Norte" not in events

    assert client.get("/ciclos/opca-2026?escola=nenhuma").status_code == 404


def test_cycle_without_open_submission_has_no_submit_button(client, city):
    page = html(client.get("/ciclos/op-digital-2026"))
    assert "Under technical review" in page
    assert "/propostas/nova" not in page
    assert "Selected works and their execution" not in page


def test_results_section_lists_selected_works_with_execution(client, city):
    cycle = factories.cycle(slug="op-2024", title="OP Digital 2024", state="monitoring")
    factories.proposal(
        cycle,
        code="OPD2024-0001",
        title="Revitalização da Praça Sete",
        status="selected",
        region=city["leste"],
        execution_status="in_works",
        execution_note="Obras iniciadas em março.",
        estimated_cost_cents=2_250_000_00,
        reviewed_cost_cents=2_300_000_00,
    )
    factories.proposal(
        cycle, code="OPD2024-0002", title="Ciclovia derrotada", status="not_selected"
    )
    page = html(client.get("/ciclos/op-2024"))
    works = page.partition('id="works-title"')[2].partition("</section>")[0]
    assert "Revitalização da Praça Sete" in works
    assert "In works" in works and "Obras iniciadas em março." in works
    assert "R$2,300,000.00" in works  # the reviewed cost counts
    assert "Ciclovia derrotada" not in works


# --- proposals -----------------------------------------------------------------------------


@pytest.fixture
def proposals(city):
    regional = city["regional"]
    factories.proposal(
        regional,
        code="OPR2026-0001",
        title="Reforma do Centro de Saúde Barreiro",
        region=city["barreiro"],
        estimated_cost_cents=1_234_567_89,
        contact=SECRET_CONTACT,
        author_name="Maria da Silva",
        place="Rua Barão de Monte Alto, 100",
    )
    factories.proposal(
        regional,
        code="OPR2026-0002",
        title="Urbanização da Vila Leste",
        region=city["leste"],
        status="rejected",
        rejection_reason="Área de preservação ambiental.",
        contact=SECRET_CONTACT,
    )
    factories.proposal(
        regional, code="OPR2026-0003", title="Rede de wi-fi nos parques", contact=SECRET_CONTACT
    )
    return regional


def test_proposals_grouped_by_region(client, proposals):
    response = client.get("/ciclos/op-regional-2026/propostas")
    assert response.status_code == 200
    page = html(response)
    barreiro = page.partition('id="region-barreiro"')[2].partition("</section>")[0]
    leste = page.partition('id="region-leste"')[2].partition("</section>")[0]
    city_wide = page.partition('id="region-cidade"')[2].partition("</section>")[0]
    assert "Reforma do Centro de Saúde Barreiro" in barreiro and "OPR2026-0001" in barreiro
    assert "R$1,234,567.89" in barreiro
    assert "R$7,500,000.00" in barreiro  # region budget
    assert "Submitted" in barreiro
    assert "Urbanização da Vila Leste" in leste and "Not accepted" in leste
    assert "Rede de wi-fi nos parques" in city_wide and "Whole city" in page
    # Regions in name order, city-wide last.
    assert page.index('id="region-barreiro"') < page.index('id="region-leste"')
    assert page.index('id="region-leste"') < page.index('id="region-cidade"')
    assert "3 proposals" in page
    assert SECRET_CONTACT not in page


def test_proposals_region_filter(client, proposals):
    page = html(client.get("/ciclos/op-regional-2026/propostas?regiao=leste"))
    assert "Urbanização da Vila Leste" in page
    assert "Reforma do Centro de Saúde Barreiro" not in page
    assert "Rede de wi-fi nos parques" not in page
    assert "1 proposal" in page


def test_proposals_empty(client, city):
    page = html(client.get("/ciclos/op-digital-2026/propostas"))
    assert "No proposals yet for this selection." in page


def test_proposal_detail_with_public_history(client, city, proposals):
    proposal = factories.proposal(
        proposals,
        code="OPR2026-0009",
        title="Pavimentação da Rua das Flores",
        description="Pavimentar a rua inteira.\n\nCom drenagem e calçadas acessíveis.",
        region=city["barreiro"],
        estimated_cost_cents=900_000_00,
        reviewed_cost_cents=1_100_000_00,
        technical_opinion="Viável, com ajuste de custo pela drenagem.",
        author_name="João Pereira",
        contact="(31) 99999-0000",
        place="Rua das Flores",
    )
    proposal.history.append(
        ProposalHistory(
            from_status="submitted", to_status="under_review", note="Encaminhada à SMOBI."
        )
    )
    proposal.history.append(ProposalHistory(from_status="under_review", to_status="accepted"))
    proposal.status = "accepted"
    db.session.commit()

    response = client.get("/propostas/OPR2026-0009")
    assert response.status_code == 200
    page = html(response)
    assert "<h1>Pavimentação da Rua das Flores</h1>" in page
    assert "OPR2026-0009" in page
    assert "Com drenagem e calçadas acessíveis." in page
    assert "R$900,000.00" in page and "R$1,100,000.00" in page
    assert "Viável, com ajuste de custo pela drenagem." in page
    assert "João Pereira" in page and "Rua das Flores" in page
    assert "Barreiro" in page and "Citizen" in page
    history = page.partition('id="history-title"')[2]
    assert history.index("Submitted") < history.index("Under review")
    assert "Encaminhada à SMOBI." in history and "Accepted for the ballot" in history
    assert "99999-0000" not in page


def test_rejected_proposal_shows_public_reason(client, proposals):
    page = html(client.get("/propostas/OPR2026-0002"))
    assert "Why it was not accepted" in page and "Área de preservação ambiental." in page
    assert SECRET_CONTACT not in page


def test_selected_proposal_shows_execution_track(client, city):
    cycle = factories.cycle(slug="op-2022", title="OP 2022", state="monitoring")
    proposal = factories.proposal(
        cycle, code="OPD2022-0001", status="selected", execution_status="cancelled"
    )
    proposal.history.append(
        ProposalHistory(track="execution", from_status=None, to_status="not_started")
    )
    proposal.history.append(
        ProposalHistory(
            track="execution",
            from_status="not_started",
            to_status="cancelled",
            note="Terreno desapropriado pelo Estado.",
        )
    )
    proposal.execution_note = "Terreno desapropriado pelo Estado."
    db.session.commit()
    page = html(client.get("/propostas/OPD2022-0001"))
    execution = page.partition('id="execution-title"')[2].partition('id="history-title"')[0]
    assert "Cancelled" in execution and "Not started" in execution
    assert "Terreno desapropriado pelo Estado." in execution


def test_proposal_of_draft_cycle_is_404(client, city):
    factories.proposal(city["draft"], code="RASC-0001", title="Proposta do rascunho")
    assert client.get("/propostas/RASC-0001").status_code == 404
