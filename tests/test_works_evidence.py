"""Staff screens of a work's execution evidence (department, money, milestones, photos), their
audit entries and refusals, and the figures as the public page shows them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import today_in_city
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.works.models import WorkMilestone, WorkPhoto
from tests.support import factories
from tests.support import works_evidence as we
from tests.support.coordination import audit_actions, text, token
from tests.support.pages import page_problems

TODAY = today_in_city()


def _post(app, client, url: str, prefix: str, data: dict):
    form = {f"{prefix}-csrf_token": token(app, client)}
    form |= {f"{prefix}-{name}": value for name, value in data.items()}
    return client.post(url, data=form)


def _milestone_form(**overrides) -> dict:
    return {
        "title": "Projeto executivo",
        "planned_on": "01/03/2026",
        "done_on": "",
        "weight": "3",
        "note": "Contratado pela SUDECAP.",
    } | overrides


def _milestones() -> list[WorkMilestone]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(WorkMilestone).order_by(WorkMilestone.id)))


def _entry(action: str) -> AuditEntry:
    return db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    )


def _work(code: str) -> Proposal:
    db.session.expire_all()
    return db.session.scalar(sa.select(Proposal).where(Proposal.code == code))


# --- the screen and who may use it -------------------------------------------------------------


def test_the_proposal_page_links_to_the_evidence_screen(client, coordinator):
    w = we.followed_work()
    page = client.get(f"/staff/proposals/{w.code}").get_data(as_text=True)
    assert f'href="/staff/works/{w.code}"' in page
    response = client.get(f"/staff/works/{w.code}")
    assert response.status_code == 200
    assert f"Execution evidence of {w.code}" in text(response)


def test_only_followed_works_have_evidence_screens(app, client, coordinator):
    w = we.followed_work()
    other = factories.proposal(w.cycle, code="OPD2025-0002", status="not_selected")
    draft = factories.cycle(slug="op-2027")
    submitted = factories.proposal(draft, code="OPD2027-0001")
    for code in (other.code, submitted.code):
        response = client.get(f"/staff/works/{code}")
        assert response.status_code == 409
        assert "Execution is followed only for selected works" in text(response)
        response = _post(app, client, f"/staff/works/{code}/milestones", "milestone", {})
        assert response.status_code == 409
    assert client.get("/staff/works/NOPE-0001").status_code == 404
    assert _milestones() == []


# --- department and money ----------------------------------------------------------------------


def test_figures_are_saved_and_audited(app, client, coordinator):
    w = we.followed_work()
    data = {"department": "SUDECAP", "committed": "400.000,00", "spent": "250000,50"}
    response = _post(app, client, f"/staff/works/{w.code}/figures", "figures", data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#figures")
    work = _work(w.code)
    assert (work.department, work.committed_cents, work.spent_cents) == (
        "SUDECAP",
        400_000_00,
        250_000_50,
    )
    entry = _entry("work.figures")
    assert entry.object_id == w.code and entry.actor_id == coordinator.id
    assert entry.before == {"department": "", "committed_cents": None, "spent_cents": None}
    assert entry.after["committed_cents"] == 400_000_00
    # Shown back in the form, Brazilian style.
    page = client.get(f"/staff/works/{w.code}").get_data(as_text=True)
    assert 'value="400.000,00"' in page
    # Blank again: not reported.
    data = {"department": "SUDECAP", "committed": "", "spent": ""}
    assert _post(app, client, f"/staff/works/{w.code}/figures", "figures", data).status_code == 302
    assert _work(w.code).committed_cents is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"committed": "muito"}, "Enter an amount in reais"),
        ({"committed": "-5"}, "Enter an amount in reais"),
        ({"committed": "9" * 400}, "Enter an amount in reais"),
        ({"committed": "100,00", "spent": "200,00"}, "cannot be more than the amount committed"),
        ({"department": "x" * 161}, "160"),
        ({"department": "SUDE\tCAP"}, "on one line"),
    ],
)
def test_bad_figures_are_refused(app, client, coordinator, data, message):
    w = we.followed_work()
    form = {"department": "", "committed": "", "spent": ""} | data
    response = _post(app, client, f"/staff/works/{w.code}/figures", "figures", form)
    assert response.status_code == 422
    assert message in text(response)
    work = _work(w.code)
    assert (work.department, work.committed_cents, work.spent_cents) == ("", None, None)
    assert "work.figures" not in audit_actions()


# --- milestones --------------------------------------------------------------------------------


def test_milestone_add_edit_done_delete_each_audited(app, client, coordinator):
    w = we.followed_work()
    url = f"/staff/works/{w.code}/milestones"
    response = _post(app, client, url, "milestone", _milestone_form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#milestones")
    [milestone] = _milestones()
    assert (milestone.title, str(milestone.planned_on), milestone.done_on, milestone.weight) == (
        "Projeto executivo",
        "2026-03-01",
        None,
        3,
    )
    assert _entry("work.milestone_add").after["planned_on"] == "2026-03-01"

    # Edit: the form comes filled in; ISO dates (from a date picker) are taken too.
    edit = f"{url}/{milestone.id}"
    page = client.get(edit)
    assert page.status_code == 200
    assert 'value="Projeto executivo"' in page.get_data(as_text=True)
    bad = _milestone_form(weight="0", planned_on="45/45/2026")
    response = _post(app, client, edit, "milestone", bad)
    assert response.status_code == 422
    assert "Enter a date, for example 31/12/2026." in text(response)
    assert "work.milestone_edit" not in audit_actions()
    changed = _milestone_form(title="Projeto e licitação", planned_on="2026-04-15", weight="5")
    assert _post(app, client, edit, "milestone", changed).status_code == 302
    [milestone] = _milestones()
    assert (milestone.title, str(milestone.planned_on), milestone.weight) == (
        "Projeto e licitação",
        "2026-04-15",
        5,
    )
    entry = _entry("work.milestone_edit")
    assert entry.before["title"] == "Projeto executivo"
    assert entry.after["title"] == "Projeto e licitação"

    # Done, on a day typed the Brazilian way.
    done_day = TODAY - timedelta(days=2)
    response = _post(
        app,
        client,
        f"{edit}/done",
        f"done-{milestone.id}",
        {"done_on": done_day.strftime("%d/%m/%Y")},
    )
    assert response.status_code == 302
    assert _milestones()[0].done_on == done_day
    assert _entry("work.milestone_done").after["done_on"] == done_day.isoformat()

    # Deleted.
    assert _post(app, client, f"{edit}/delete", "x", {}).status_code == 302
    assert _milestones() == []
    assert _entry("work.milestone_delete").before["title"] == "Projeto e licitação"
    assert [a for a in audit_actions() if a.startswith("work.")] == [
        "work.milestone_add",
        "work.milestone_edit",
        "work.milestone_done",
        "work.milestone_delete",
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "This field is required."),
        ({"title": "Obra\x07"}, "title", "on one line"),
        ({"planned_on": ""}, "planned_on", "This field is required."),
        ({"planned_on": "31/02/2026"}, "planned_on", "Enter a date, for example 31/12/2026."),
        ({"planned_on": "amanhã"}, "planned_on", "Enter a date, for example 31/12/2026."),
        ({"planned_on": "01/01/2999"}, None, "Enter a date between 1990 and 2200."),
        ({"done_on": "01/01/2100"}, None, "cannot be done on a day still to come"),
        ({"weight": "0"}, "weight", "from 1 to 100"),
        ({"weight": "101"}, "weight", "from 1 to 100"),
        ({"weight": "três"}, "weight", "Not a valid integer value."),
        ({"weight": "9" * 400}, "weight", "Not a valid integer value."),
        ({"note": "x" * 2001}, "note", "2000"),
    ],
)
def test_bad_milestones_are_refused_field_by_field(
    app, client, coordinator, overrides, field, message
):
    w = we.followed_work()
    data = _milestone_form(**overrides)
    response = _post(app, client, f"/staff/works/{w.code}/milestones", "milestone", data)
    assert response.status_code == 422
    assert message in text(response)
    if field:
        assert f'id="milestone-{field}-error"' in response.get_data(as_text=True)
    assert _milestones() == []
    assert not any(a.startswith("work.") for a in audit_actions())


def test_marking_done_refuses_a_future_or_missing_day(app, client, coordinator):
    w = we.followed_work()
    milestone = we.add_milestone(w.work, "Licitação", TODAY)
    url = f"/staff/works/{w.code}/milestones/{milestone.id}/done"
    prefix = f"done-{milestone.id}"
    tomorrow = (TODAY + timedelta(days=1)).strftime("%d/%m/%Y")
    response = _post(app, client, url, prefix, {"done_on": tomorrow})
    assert response.status_code == 422
    assert "cannot be done on a day still to come" in text(response)
    response = _post(app, client, url, prefix, {"done_on": ""})
    assert response.status_code == 422
    assert f'id="{prefix}-done_on-error"' in response.get_data(as_text=True)
    assert _milestones()[0].done_on is None


def test_another_works_milestone_is_not_found(app, client, coordinator):
    w = we.followed_work()
    other = factories.proposal(
        w.cycle, code="OPD2025-0009", status="selected", execution_status="in_works"
    )
    milestone = we.add_milestone(other, "Obra", TODAY)
    base = f"/staff/works/{w.code}/milestones/{milestone.id}"
    assert client.get(base).status_code == 404
    assert _post(app, client, f"{base}/delete", "x", {}).status_code == 404
    assert _post(app, client, f"{base}/done", f"done-{milestone.id}", {}).status_code == 404
    assert len(_milestones()) == 1


# --- photos ------------------------------------------------------------------------------------


def test_staff_photos_are_deleted_with_an_audit_entry(app, client, coordinator):
    w = we.followed_work()
    key = we.stored_photo(w.work)
    response = _post(app, client, f"/staff/works/{w.code}/photos/{key}/delete", "x", {})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(WorkPhoto.id))) == 0
    assert _entry("work.photo_delete").before["key"] == key
    assert client.get(f"/fotos/{key}.jpg").status_code == 404


def test_a_reports_photo_is_not_deleted_here(app, client, coordinator):
    w = we.followed_work()
    key = we.stored_photo(w.work, report=we.report_on(w.work, "approved"))
    response = _post(app, client, f"/staff/works/{w.code}/photos/{key}/delete", "x", {})
    assert response.status_code == 409
    assert "moderate the report instead" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(WorkPhoto.id))) == 1


# --- on the public page ------------------------------------------------------------------------


def _public(client, code: str) -> tuple[str, str]:
    response = client.get(f"/propostas/{code}")
    assert response.status_code == 200
    return response.get_data(as_text=True), text(response)


def test_public_page_shows_progress_milestones_and_money(client, app_ctx, english_by_default):
    w = we.followed_work(department="SUDECAP", committed_cents=400_000_00, spent_cents=250_000_00)
    we.add_milestone(w.work, "Projeto", TODAY - timedelta(days=60), TODAY - timedelta(days=50), 1)
    we.add_milestone(w.work, "Licitação", TODAY - timedelta(days=10), None, 2)
    we.add_milestone(w.work, "Obra", TODAY + timedelta(days=90), None, 1)
    html, page = _public(client, w.code)
    # 1 of 4 weight units done: 25%, as a progress bar with its figure in text.
    assert re.search(r'<progress id="work-progress" max="100" value="25"', html)
    assert "25%" in page and "1 of 3 milestones done." in page
    assert "Late: at least one milestone is past its planned date and not done." in page
    # The timeline, in planned order, each milestone's state in words.
    timeline = html[html.index('class="timeline milestones"') :]
    assert timeline.index("Projeto") < timeline.index("Licitação") < timeline.index("Obra")
    states = re.findall(r'<span class="badge[^"]*">(Done|Late|Planned)</span>', timeline)
    assert states == ["Done", "Late", "Planned"]
    # Money against the voted cost (R$ 1,000,000.00).
    assert "SUDECAP" in page
    assert "R$400,000.00 (40% of the voted cost)" in page
    assert "R$250,000.00 (25% of the voted cost)" in page
    assert "Over budget" not in page
    # The execution status and history are still there.
    assert "Execution of the work" in page and "Execution: In works" in page


def test_public_page_says_over_budget_and_not_reported_in_words(
    client, app_ctx, english_by_default
):
    w = we.followed_work(committed_cents=1_200_000_00)
    _, page = _public(client, w.code)
    assert "R$1,200,000.00 (120% of the voted cost)" in page
    assert "Over budget: more than the voted cost has been committed or spent." in page
    assert "Spent (pago) Not reported yet" in page
    assert "No milestones have been planned yet." in page


def test_a_done_work_is_complete_and_not_late(client, app_ctx, english_by_default):
    w = we.followed_work(execution_status="done")
    we.add_milestone(w.work, "Obra", TODAY - timedelta(days=30))
    html, page = _public(client, w.code)
    assert 'value="100"' in html and "100%" in page
    assert "Late:" not in page


def test_unpublished_photos_stay_off_the_public_page(client, app_ctx):
    w = we.followed_work()
    staff = we.stored_photo(w.work, alt="Staff photo")
    pending = we.stored_photo(w.work, report=we.report_on(w.work, "pending"), alt="Pending")
    html, _ = _public(client, w.code)
    assert f"/fotos/{staff}/miniatura.jpg" in html
    assert pending not in html


def test_proposals_that_are_not_works_show_no_evidence(client, app_ctx):
    w = we.followed_work()
    accepted = factories.proposal(w.cycle, code="OPD2025-0003", status="not_selected")
    html, _ = _public(client, accepted.code)
    assert "work-evidence" not in html


def test_the_pages_pass_the_accessibility_audit(app, client, coordinator):
    w = we.followed_work()
    milestone = we.add_milestone(w.work, "Projeto", TODAY - timedelta(days=3))
    we.add_milestone(w.work, "Obra", TODAY + timedelta(days=3), TODAY)
    we.stored_photo(w.work)
    for url in (
        f"/staff/works/{w.code}",
        f"/staff/works/{w.code}/milestones/{milestone.id}",
        f"/propostas/{w.code}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert page_problems(response.get_data(as_text=True)) == [], url
    # With every form's errors shown at once: ids stay unique, every field keeps its label.
    response = _post(app, client, f"/staff/works/{w.code}/milestones", "milestone", {})
    html = response.get_data(as_text=True)
    assert page_problems(html) == []
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
