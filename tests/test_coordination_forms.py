"""Bad input on every coordination form: a 4xx, a clear message, and nothing stored."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from opdigital.cycles.models import Cycle, Event, Phase, RegionBudget
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from tests.support import factories
from tests.support.coordination import (
    audit_count,
    cycle_form,
    edit_cycle_form,
    event_form,
    phase_form,
    post,
    proposal_form,
    sign_in,
    text,
    world,
)


def _review(**overrides) -> dict:
    return {
        "technical_opinion": "Viável tecnicamente.",
        "reviewed_cost": "",
        "decision": "accept",
        "rejection_reason": "",
    } | overrides


NEW_CYCLE = "/staff/cycles/new"

# (id, url(w), data(w), expected status, message shown)
BAD_INPUT = [
    ("cycle-no-title", lambda w: NEW_CYCLE, lambda w: cycle_form(title=""), 422, "required"),
    (
        "cycle-nul-character",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(title="OP\x00 2027"),
        400,
        "contains a character that is not allowed",
    ),
    (
        "cycle-bad-slug",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(slug="Meu Ciclo!"),
        422,
        "The slug may only have lower-case letters, digits and hyphens.",
    ),
    (
        "cycle-reserved-slug",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(slug="new"),
        422,
        "This slug is reserved",
    ),
    (
        "cycle-duplicate-slug",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(slug=w.slug),
        409,
        "A cycle with this slug already exists.",
    ),
    (
        "cycle-edition-text",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(edition="dois mil"),
        422,
        "Not a valid integer value",
    ),
    (
        "cycle-edition-range",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(edition="20"),
        422,
        "The edition must be a year.",
    ),
    (
        "cycle-budget-text",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(total_budget="muito"),
        422,
        "Enter an amount in reais",
    ),
    (
        "cycle-budget-huge",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(total_budget="99.999.999.999.999.999.999,00"),
        422,
        "Enter an amount between zero and R$ 100 billion.",
    ),
    (
        "cycle-budget-missing",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(total_budget=""),
        422,
        "required",
    ),
    (
        "cycle-ages",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(min_voter_age="18", max_voter_age="16"),
        422,
        "The maximum age must not be below the minimum age.",
    ),
    (
        "cycle-start",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(start="01/02/2027"),
        422,
        "Enter a date, for example",
    ),
    (
        "cycle-kind",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(kind="op-nacional"),
        422,
        "not a valid choice",
    ),
    (
        "edit-duplicate-slug",
        lambda w: f"/staff/cycles/{w.slug}/edit",
        lambda w: edit_cycle_form(w.slug, slug=w.tallied_slug),
        409,
        "A cycle with this slug already exists.",
    ),
    (
        "edit-no-title",
        lambda w: f"/staff/cycles/{w.slug}/edit",
        lambda w: edit_cycle_form(w.slug, title=" "),
        422,
        "required",
    ),
    (
        "transition-no-target",
        lambda w: f"/staff/cycles/{w.slug}/transition",
        lambda w: {"target": ""},
        422,
        "Choose the state to move the cycle to.",
    ),
    (
        "transition-unknown-target",
        lambda w: f"/staff/cycles/{w.slug}/transition",
        lambda w: {"target": "finished"},
        409,
        "This cycle cannot move to that state from its current state.",
    ),
    (
        "phase-ends-before-start",
        lambda w: f"/staff/cycles/{w.slug}/phases/new",
        lambda w: phase_form(starts_at="2026-04-30T00:00", ends_at="2026-04-01T00:00"),
        422,
        "The end must come after the start.",
    ),
    (
        "phase-nul-character",
        lambda w: f"/staff/cycles/{w.slug}/phases/new",
        lambda w: phase_form(description="a\x00b"),
        400,
        "contains a character that is not allowed",
    ),
    (
        "phase-bad-date",
        lambda w: f"/staff/cycles/{w.slug}/phases/new",
        lambda w: phase_form(starts_at="amanhã"),
        422,
        "Enter a date and time",
    ),
    (
        "phase-no-name",
        lambda w: f"/staff/cycles/{w.slug}/phases/new",
        lambda w: phase_form(name=""),
        422,
        "required",
    ),
    (
        "phase-kind",
        lambda w: f"/staff/cycles/{w.slug}/phases/new",
        lambda w: phase_form(kind="party"),
        422,
        "not a valid choice",
    ),
    (
        "phase-position",
        lambda w: f"/staff/cycles/{w.slug}/phases/new",
        lambda w: phase_form(position="primeira"),
        422,
        "Not a valid integer value",
    ),
    (
        "phase-edit-ends-before-start",
        lambda w: f"/staff/phases/{w.phase_id}/edit",
        lambda w: phase_form(starts_at="2026-04-30T00:00", ends_at="2026-04-30T00:00"),
        422,
        "The end must come after the start.",
    ),
    (
        "event-ends-before-start",
        lambda w: f"/staff/cycles/{w.slug}/events/new",
        lambda w: event_form(w, ends_at="2026-03-10T18:00"),
        422,
        "The end must come after the start.",
    ),
    (
        "event-unknown-region",
        lambda w: f"/staff/cycles/{w.slug}/events/new",
        lambda w: event_form(w, region_id="999999"),
        422,
        "not a valid choice",
    ),
    (
        "event-region-text",
        lambda w: f"/staff/cycles/{w.slug}/events/new",
        lambda w: event_form(w, region_id="leste"),
        422,
        "Invalid Choice",
    ),
    (
        "event-edit-no-title",
        lambda w: f"/staff/events/{w.event_id}/edit",
        lambda w: event_form(w, title=""),
        422,
        "required",
    ),
    (
        "budget-over-total",
        lambda w: f"/staff/cycles/{w.slug}/budgets",
        lambda w: {
            "action": "manual",
            f"region_{w.region_id}": "40.000.000,00",
            f"region_{w.other_region_id}": "10.000.000,01",
        },
        422,
        "The regions' budgets add up to more than the cycle's total.",
    ),
    (
        "budget-text",
        lambda w: f"/staff/cycles/{w.slug}/budgets",
        lambda w: {"action": "manual", f"region_{w.region_id}": "cem mil"},
        422,
        "Enter an amount in reais",
    ),
    (
        "budget-no-action",
        lambda w: f"/staff/cycles/{w.slug}/budgets",
        lambda w: {f"region_{w.region_id}": "100,00"},
        422,
        "Choose which budget form to send.",
    ),
    (
        "formula-over-100",
        lambda w: f"/staff/cycles/{w.slug}/budgets",
        lambda w: {"action": "formula", "equal_share_percent": "150"},
        422,
        "The equal share must be between 0 and 100 percent.",
    ),
    (
        "formula-text",
        lambda w: f"/staff/cycles/{w.slug}/budgets",
        lambda w: {"action": "formula", "equal_share_percent": "metade"},
        422,
        "Not a valid integer value",
    ),
    (
        "proposal-short-title",
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w, title="Rua"),
        422,
        "Field must be between 5 and 160 characters long.",
    ),
    (
        "proposal-short-description",
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w, description="Curta"),
        422,
        "Field must be between 20 and 5000 characters long.",
    ),
    (
        "proposal-zero-cost",
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w, estimated_cost="0,00"),
        422,
        "The estimated cost must be a positive amount.",
    ),
    (
        "proposal-cost-text",
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w, estimated_cost="barato"),
        422,
        "Enter an amount in reais",
    ),
    (
        "proposal-origin",
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w, origin="robot"),
        422,
        "not a valid choice",
    ),
    (
        "review-reject-without-reason",
        lambda w: f"/staff/proposals/{w.code}/review",
        lambda w: _review(decision="reject", rejection_reason="  "),
        422,
        "A rejection needs a public reason.",
    ),
    (
        "review-nul-character",
        lambda w: f"/staff/proposals/{w.code}/review",
        lambda w: _review(technical_opinion="Viável\x00"),
        400,
        "contains a character that is not allowed",
    ),
    (
        "review-no-opinion",
        lambda w: f"/staff/proposals/{w.code}/review",
        lambda w: _review(technical_opinion=""),
        422,
        "required",
    ),
    (
        "review-no-decision",
        lambda w: f"/staff/proposals/{w.code}/review",
        lambda w: _review(decision=""),
        422,
        "Choose accept or reject.",
    ),
    (
        "review-zero-cost",
        lambda w: f"/staff/proposals/{w.code}/review",
        lambda w: _review(reviewed_cost="0"),
        422,
        "The reviewed cost must be a positive amount.",
    ),
    (
        "start-review-after-freeze",
        lambda w: f"/staff/proposals/{w.on_ballot_code}/start-review",
        lambda w: {},
        409,
        "The ballot of this cycle is frozen and can no longer change.",
    ),
    (
        "result-missing",
        lambda w: f"/staff/proposals/{w.on_ballot_code}/result",
        lambda w: {},
        422,
        "Choose selected or not selected.",
    ),
    (
        "result-wrong-value",
        lambda w: f"/staff/proposals/{w.on_ballot_code}/result",
        lambda w: {"selected": "maybe"},
        422,
        "Choose selected or not selected.",
    ),
    (
        "result-before-voting",
        lambda w: f"/staff/proposals/{w.code}/result",
        lambda w: {"selected": "yes"},
        409,
        "Results are recorded after voting closes and before they are published.",
    ),
    (
        "execution-cancel-without-reason",
        lambda w: f"/staff/proposals/{w.selected_code}/execution",
        lambda w: {"status": "cancelled", "note": ""},
        422,
        "A cancellation needs a public reason.",
    ),
    (
        "execution-unknown-status",
        lambda w: f"/staff/proposals/{w.selected_code}/execution",
        lambda w: {"status": "abandoned", "note": "x"},
        422,
        "not a valid choice",
    ),
    (
        "execution-not-selected",
        lambda w: f"/staff/proposals/{w.on_ballot_code}/execution",
        lambda w: {"status": "done", "note": ""},
        409,
        "Execution is followed only for selected works",
    ),
]

ONE_LINE = "Write this on one line, without line breaks, tabs or control characters."
NO_CONTROL = "Remove the invisible control characters from this text (line breaks are fine)."
# Control characters in one-line fields (titles, names, places) and in multi-line ones.
BAD_INPUT += [
    (
        "cycle-title-newline",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(title="OP\nVOTES"),
        422,
        ONE_LINE,
    ),
    (
        "cycle-slug-newline",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(slug="op-2027\n"),
        422,
        ONE_LINE,
    ),
    (
        "cycle-edit-title-crlf",
        lambda w: f"/staff/cycles/{w.slug}/edit",
        lambda w: edit_cycle_form(w.slug, title="OP Digital\r\n2026"),
        422,
        ONE_LINE,
    ),
    (
        "cycle-description-escape",
        lambda w: NEW_CYCLE,
        lambda w: cycle_form(description="Ciclo\n\x1b[31mregional"),
        422,
        NO_CONTROL,
    ),
    (
        "phase-name-tab",
        lambda w: f"/staff/cycles/{w.slug}/phases/new",
        lambda w: phase_form(name="Análise\ttécnica"),
        422,
        ONE_LINE,
    ),
    (
        "event-title-line-separator",
        lambda w: f"/staff/cycles/{w.slug}/events/new",
        lambda w: event_form(w, title="Assembleia\u2028do Barreiro"),
        422,
        ONE_LINE,
    ),
    (
        "event-place-delete",
        lambda w: f"/staff/cycles/{w.slug}/events/new",
        lambda w: event_form(w, place="Escola\x7f Municipal"),
        422,
        ONE_LINE,
    ),
    (
        "proposal-title-pabulib-section",
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w, title="Praça\nVOTES\nvoter_id;vote"),
        422,
        ONE_LINE,
    ),
    (
        "proposal-author-next-line",
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w, author_name="Assembleia\x85Barreiro"),
        422,
        ONE_LINE,
    ),
    (
        "proposal-description-bell",
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w, description="Revitalização da praça\x07 com bancos e luz."),
        422,
        NO_CONTROL,
    ),
    (
        "review-opinion-escape",
        lambda w: f"/staff/proposals/{w.code}/review",
        lambda w: _review(technical_opinion="Viável\x1b[2J tecnicamente."),
        422,
        NO_CONTROL,
    ),
]


def _snapshot():
    """Everything a coordination form could change, to prove nothing was stored."""
    return {
        "cycles": [
            (c.slug, c.title, c.state, c.total_budget_cents, c.budget_split)
            for c in db.session.scalars(sa.select(Cycle).order_by(Cycle.id))
        ],
        "phases": [
            (p.name, p.kind, p.starts_at, p.ends_at)
            for p in db.session.scalars(sa.select(Phase).order_by(Phase.id))
        ],
        "events": [
            (e.title, e.starts_at, e.ends_at, e.region_id)
            for e in db.session.scalars(sa.select(Event).order_by(Event.id))
        ],
        "budgets": list(
            db.session.execute(sa.select(RegionBudget.region_id, RegionBudget.amount_cents))
        ),
        "proposals": [
            (p.code, p.status, p.technical_opinion, p.reviewed_cost_cents, p.execution_status)
            for p in db.session.scalars(sa.select(Proposal).order_by(Proposal.id))
        ],
    }


@pytest.mark.parametrize(
    ("url", "data", "status", "message"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_is_refused_with_a_message(app, client, app_ctx, url, data, status, message):
    w = world()
    sign_in(client, factories.user("coordinator"))
    before = _snapshot()
    response = post(app, client, url(w), data(w))
    assert response.status_code == status
    assert message.lower() in text(response).lower()
    db.session.expire_all()
    assert _snapshot() == before
    assert audit_count() == 0


def test_proposal_without_region_is_refused_in_op_regional(app, client, app_ctx):
    w = world()
    cycle = factories.cycle(slug="op-regional-2027", kind="op-regional")
    sign_in(client, factories.user("coordinator"))
    response = post(
        app, client, f"/staff/cycles/{cycle.slug}/proposals/new", proposal_form(w, region_id="")
    )
    assert response.status_code == 422
    assert "Choose the region of the proposal." in text(response)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Proposal.id)).where(Proposal.cycle_id == cycle.id)
        )
        == 0
    )


def test_opca_proposal_needs_a_school_in_its_region(app, client, app_ctx):
    w = world()
    cycle = factories.cycle(slug="opca-2027", kind="opca")
    other_school = factories.school(db.session.get(factories.Region, w.other_region_id))
    sign_in(client, factories.user("coordinator"))
    url = f"/staff/cycles/{cycle.slug}/proposals/new"
    response = post(app, client, url, proposal_form(w, school_id=""))
    assert response.status_code == 422
    assert "Choose the school of the proposal." in text(response)
    response = post(app, client, url, proposal_form(w, school_id=str(other_school.id)))
    assert response.status_code == 422
    assert "The school is not in the chosen region." in text(response)
    response = post(app, client, url, proposal_form(w, school_id=str(w.school_id)))
    assert response.status_code == 302
    proposal = db.session.scalar(sa.select(Proposal).where(Proposal.cycle_id == cycle.id))
    assert proposal.school_id == w.school_id
    assert proposal.code.startswith("OPCA2026-")


def test_unknown_status_filter_is_400(client, app_ctx):
    w = world()
    sign_in(client, factories.user("coordinator"))
    assert client.get(f"/staff/cycles/{w.slug}/proposals?status=lost").status_code == 400


def test_descriptions_keep_line_breaks_and_tabs_but_no_other_control_character(
    app, client, app_ctx
):
    w = world()
    sign_in(client, factories.user("coordinator"))
    url = f"/staff/cycles/{w.slug}/proposals/new"
    description = "Revitalização da praça:\r\n\t- iluminação;\r\n\t- bancos e acessibilidade."
    refused = post(app, client, url, proposal_form(w, description=description + "\x0c"))
    assert refused.status_code == 422
    assert NO_CONTROL in text(refused)
    response = post(app, client, url, proposal_form(w, description=description))
    assert response.status_code == 302
    stored = db.session.scalar(sa.select(Proposal).where(Proposal.title == "Praça da Vila Pinho"))
    assert stored.description == description
