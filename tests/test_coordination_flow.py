"""A whole cycle driven through the coordinator screens, from creation to monitoring."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from opdigital.accounts.models import User
from opdigital.audit.models import AuditEntry
from opdigital.cycles.models import Cycle, Event, Phase
from opdigital.cycles.phase_templates import TEMPLATES
from opdigital.cycles.states import CycleState
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region
from tests.support import factories
from tests.support.coordination import (
    audit_actions,
    cycle_form,
    event_form,
    phase_form,
    post,
    proposal_form,
    sign_in,
    text,
)

# Every state after the draft, in order (test_states pins the order itself).
STATES = [state.value for state in CycleState][1:]


def _cycle(slug: str) -> Cycle:
    db.session.expire_all()
    return db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug))


def _proposal(code: str) -> Proposal:
    db.session.expire_all()
    return db.session.scalar(sa.select(Proposal).where(Proposal.code == code))


def _transition(app, client, slug: str, target: str):
    return post(app, client, f"/staff/cycles/{slug}/transition", {"target": target})


def _review(app, client, code: str, **form):
    return post(app, client, f"/staff/proposals/{code}/review", form)


class SimpleIds:
    """The two region ids `event_form` and `proposal_form` read."""

    def __init__(self, barreiro: int, leste: int):
        self.region_id = barreiro
        self.other_region_id = leste


@dataclass
class Flow:
    """What the stages share: the three regions, the signed-in coordinator, the proposal codes."""

    regions: tuple[Region, Region, Region]
    coordinator: User
    codes: list[str] = field(default_factory=list)

    @property
    def barreiro(self) -> Region:
        return self.regions[0]

    @property
    def ids(self) -> SimpleIds:
        barreiro, leste, _ = self.regions
        return SimpleIds(barreiro=barreiro.id, leste=leste.id)


@pytest.fixture
def flow(app_ctx, client) -> Flow:
    """Three regions and a coordinator, signed in on `client`."""
    barreiro = factories.region(name="Barreiro", population=280_000, need_index=1.4)
    leste = factories.region(name="Leste", population=240_000, need_index=1.1)
    pampulha = factories.region(name="Pampulha", population=230_000, need_index=0.7)
    coordinator = factories.user("coordinator")
    sign_in(client, coordinator)
    return Flow(regions=(barreiro, leste, pampulha), coordinator=coordinator)


def test_a_cycle_from_creation_to_monitoring(app, client, app_ctx, flow, signing_key):
    """One cycle through every screen; each stage starts where the one before left it."""
    created_from_the_template_with_its_phases(app, client)
    details_edited(app, client)
    a_phase_added_edited_and_deleted(app, client)
    an_event_added_edited_and_deleted(app, client, flow)
    budgets_set_by_hand_then_by_the_formula(app, client, flow)
    flow.codes = opened_and_three_proposals_entered(app, client, flow)
    one_accepted_one_rejected_only_with_a_public_reason(app, client, flow.codes)
    a_pending_proposal_blocks_the_freeze(app, client, flow.codes)
    no_freeze_without_a_ballot_rule(app, client)
    the_frozen_ballot_refuses_every_change(app, client, flow.codes)
    a_result_is_recorded_only_after_voting_closes(app, client, flow.codes)
    the_works_are_followed_in_monitoring(app, client, flow.codes)
    every_action_is_audited_by_the_coordinator(flow.coordinator)


# --- the stages, in order ---------------------------------------------------------------------


def created_from_the_template_with_its_phases(app, client) -> None:
    """Create from the op-digital template: its phases come with it."""
    response = post(
        app,
        client,
        "/staff/cycles/new",
        cycle_form(
            kind="op-digital",
            slug="op-digital-2027",
            title="OP Digital 2027",
            total_budget="30.000.000,00",
            start="2027-03-01",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/cycles/op-digital-2027"
    cycle = _cycle("op-digital-2027")
    assert cycle.state == "draft"
    assert cycle.total_budget_cents == 30_000_000_00
    assert cycle.min_voter_age == 16
    assert [p.name for p in cycle.phases] == [t.name for t in TEMPLATES["op-digital"]]
    page = client.get("/staff/cycles/op-digital-2027")
    assert page.status_code == 200
    assert "Envio de propostas" in text(page)
    assert "Open for proposals" in text(page)  # the one next step, as a button
    assert client.get("/staff/").status_code == 200
    assert "OP Digital 2027" in text(client.get("/staff/"))


def details_edited(app, client) -> None:
    """Edit the details."""
    response = post(
        app,
        client,
        "/staff/cycles/op-digital-2027/edit",
        {
            "slug": "op-digital-2027",
            "title": "OP Digital 2027: obras nas regionais",
            "edition": "2027",
            "total_budget": "30.000.000,00",
            "description": "Votação online de obras.",
            "min_voter_age": "16",
            "max_voter_age": "",
        },
    )
    assert response.status_code == 302
    assert _cycle("op-digital-2027").title == "OP Digital 2027: obras nas regionais"


def a_phase_added_edited_and_deleted(app, client) -> None:
    """A phase: add, edit, delete."""
    before = len(_cycle("op-digital-2027").phases)
    response = post(
        app,
        client,
        "/staff/cycles/op-digital-2027/phases/new",
        phase_form(kind="caravans", name="Caravanas", position="2"),
    )
    assert response.status_code == 302
    phase = db.session.scalar(sa.select(Phase).where(Phase.name == "Caravanas"))
    assert phase.position == 2
    assert phase.starts_at.isoformat() == "2026-04-01T03:00:00+00:00"  # midnight in BH
    assert len(_cycle("op-digital-2027").phases) == before + 1
    response = post(
        app,
        client,
        f"/staff/phases/{phase.id}/edit",
        phase_form(kind="caravans", name="Caravanas de prioridades", ends_at="2026-05-02T12:00"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert phase.name == "Caravanas de prioridades"
    assert phase.ends_at.isoformat() == "2026-05-02T15:00:00+00:00"
    assert post(app, client, f"/staff/phases/{phase.id}/delete").status_code == 302
    assert db.session.get(Phase, phase.id) is None


def an_event_added_edited_and_deleted(app, client, flow) -> None:
    """An event: add, edit, delete."""
    barreiro, ids = flow.barreiro, flow.ids
    response = post(app, client, "/staff/cycles/op-digital-2027/events/new", event_form(ids))
    assert response.status_code == 302
    event = db.session.scalar(sa.select(Event).where(Event.title == "Assembleia do Barreiro"))
    assert event.region_id == barreiro.id
    assert event.school_id is None
    assert "Assembleia do Barreiro" in text(client.get("/staff/cycles/op-digital-2027"))
    response = post(
        app,
        client,
        f"/staff/events/{event.id}/edit",
        event_form(ids, title="Ponto de votação", kind="voting_point", region_id=""),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (event.title, event.kind, event.region_id) == ("Ponto de votação", "voting_point", None)
    assert post(app, client, f"/staff/events/{event.id}/delete").status_code == 302
    assert db.session.get(Event, event.id) is None


def budgets_set_by_hand_then_by_the_formula(app, client, flow) -> None:
    """Budgets: by hand, then by the formula (which always adds up to the total)."""
    barreiro, leste, pampulha = regions = flow.regions
    response = post(
        app,
        client,
        "/staff/cycles/op-digital-2027/budgets",
        {
            "action": "manual",
            f"region_{barreiro.id}": "12.000.000,00",
            f"region_{leste.id}": "10.000.000,50",
            f"region_{pampulha.id}": "",
        },
    )
    assert response.status_code == 302
    budgets = {rb.region_id: rb.amount_cents for rb in _cycle("op-digital-2027").region_budgets}
    assert budgets == {barreiro.id: 12_000_000_00, leste.id: 10_000_000_50, pampulha.id: 0}
    page = text(client.get("/staff/cycles/op-digital-2027/budgets"))
    assert "R$ 7.999.999,50" in page or "R$7,999,999.50" in page  # unallocated remainder
    response = post(
        app,
        client,
        "/staff/cycles/op-digital-2027/budgets",
        {"action": "formula", "equal_share_percent": "40"},
    )
    assert response.status_code == 302
    cycle = _cycle("op-digital-2027")
    amounts = {rb.region_id: rb.amount_cents for rb in cycle.region_budgets}
    assert sum(amounts.values()) == cycle.total_budget_cents
    assert amounts[barreiro.id] > amounts[leste.id] > amounts[pampulha.id]
    assert (cycle.budget_split, cycle.equal_share_percent) == ("formula", 40)
    assert len(amounts) == len(regions)


def opened_and_three_proposals_entered(app, client, flow) -> list[str]:
    """Open for proposals, then staff enter three."""
    ids = flow.ids
    assert _transition(app, client, "op-digital-2027", "open_for_proposals").status_code == 302
    codes = []
    for title in ("Praça da Vila Pinho", "Academia a céu aberto", "Ciclovia da Avenida"):
        response = post(
            app,
            client,
            "/staff/cycles/op-digital-2027/proposals/new",
            proposal_form(ids, title=title),
        )
        assert response.status_code == 302
        codes.append(response.headers["Location"].rsplit("/", 1)[1])
    assert codes == ["OPD2027-0001", "OPD2027-0002", "OPD2027-0003"]
    listing = text(client.get("/staff/cycles/op-digital-2027/proposals"))
    assert "barreiro@example.org" in listing  # staff see the contact
    assert _proposal(codes[0]).origin == "assembly"
    return codes


def one_accepted_one_rejected_only_with_a_public_reason(app, client, codes) -> None:
    """Review: accept one, reject one (a reason is required), leave one pending."""
    assert _transition(app, client, "op-digital-2027", "under_review").status_code == 302
    assert post(app, client, f"/staff/proposals/{codes[0]}/start-review").status_code == 302
    assert _proposal(codes[0]).status == "under_review"
    response = _review(
        app,
        client,
        codes[0],
        technical_opinion="Viável; terreno público.",
        reviewed_cost="1.800.000,00",
        decision="accept",
    )
    assert response.status_code == 302
    accepted = _proposal(codes[0])
    assert (accepted.status, accepted.reviewed_cost_cents) == ("accepted", 1_800_000_00)
    response = _review(
        app, client, codes[1], technical_opinion="Área de preservação.", decision="reject"
    )
    assert response.status_code == 422
    assert "A rejection needs a public reason." in text(response)
    assert _proposal(codes[1]).status == "submitted"
    response = _review(
        app,
        client,
        codes[1],
        technical_opinion="Área de preservação.",
        decision="reject",
        rejection_reason="O terreno é área de preservação ambiental.",
    )
    assert response.status_code == 302
    rejected = _proposal(codes[1])
    assert rejected.status == "rejected"
    assert rejected.rejection_reason == "O terreno é área de preservação ambiental."
    history = text(client.get(f"/staff/proposals/{codes[1]}"))
    assert "Not accepted" in history and "área de preservação ambiental" in history


def a_pending_proposal_blocks_the_freeze(app, client, codes) -> None:
    """A pending proposal blocks the freeze, visibly; then the last one is rejected too."""
    response = _transition(app, client, "op-digital-2027", "ballot_frozen")
    assert response.status_code == 409
    assert "Still pending: OPD2027-0003" in text(response)
    assert _cycle("op-digital-2027").state == "under_review"
    response = _review(
        app,
        client,
        codes[2],
        technical_opinion="Custo acima do teto.",
        decision="reject",
        rejection_reason="Custo acima do teto da regional.",
    )
    assert response.status_code == 302


def no_freeze_without_a_ballot_rule(app, client) -> None:
    """Without a ballot rule the ballot cannot be frozen; the coordinator sets the rules."""
    response = _transition(app, client, "op-digital-2027", "ballot_frozen")
    assert response.status_code == 409
    assert _cycle("op-digital-2027").state == "under_review"
    settings = {
        "ballot_rule": "one-city-wide",
        "counting_rule": "greedy",
        "min_voter_age": "16",
        "registry_scope": "city",
        "shuffle_ballot": "y",
    }
    response = post(app, client, "/staff/cycles/op-digital-2027/voting-settings", settings)
    assert response.status_code == 302


def the_frozen_ballot_refuses_every_change(app, client, codes) -> None:
    """Freeze: the accepted proposal goes on the ballot; nothing on it can change any more."""
    assert _transition(app, client, "op-digital-2027", "ballot_frozen").status_code == 302
    assert _cycle("op-digital-2027").ballot_frozen_at is not None
    assert _proposal(codes[0]).status == "on_ballot"
    assert _proposal(codes[1]).status == "rejected"
    response = client.get(f"/staff/proposals/{codes[0]}/review")
    assert response.status_code == 409
    assert "frozen" in text(response)
    response = _review(
        app, client, codes[0], technical_opinion="x", decision="reject", rejection_reason="y"
    )
    assert response.status_code == 409
    assert _proposal(codes[0]).status == "on_ballot"
    assert client.get("/staff/cycles/op-digital-2027/proposals/new").status_code == 409
    response = post(
        app,
        client,
        "/staff/cycles/op-digital-2027/budgets",
        {"action": "formula", "equal_share_percent": "100"},
    )
    assert response.status_code == 409
    assert "frozen" in text(response)
    assert _cycle("op-digital-2027").equal_share_percent == 40


def a_result_is_recorded_only_after_voting_closes(app, client, codes) -> None:
    """Voting, closing; a result cannot be recorded while voting."""
    assert _transition(app, client, "op-digital-2027", "voting").status_code == 302
    response = post(app, client, f"/staff/proposals/{codes[0]}/result", {"selected": "yes"})
    assert response.status_code == 409
    assert "Results are recorded after voting closes" in text(response)
    assert _transition(app, client, "op-digital-2027", "closed").status_code == 302
    page = text(client.get(f"/staff/proposals/{codes[0]}"))
    assert "Record the result" in page
    response = post(app, client, f"/staff/proposals/{codes[0]}/result", {"selected": "yes"})
    assert response.status_code == 302
    selected = _proposal(codes[0])
    assert (selected.status, selected.execution_status) == ("selected", "not_started")


def the_works_are_followed_in_monitoring(app, client, codes) -> None:
    """Tallied, published, monitoring; then the works are followed."""
    for target in ("tallied", "published", "monitoring"):
        assert _transition(app, client, "op-digital-2027", target).status_code == 302
    assert _cycle("op-digital-2027").state == "monitoring"
    assert "last state" in text(client.get("/staff/cycles/op-digital-2027"))
    url = f"/staff/proposals/{codes[0]}/execution"
    assert client.get(url).status_code == 200
    assert (
        post(app, client, url, {"status": "in_works", "note": "Obra iniciada."}).status_code == 302
    )
    assert _proposal(codes[0]).execution_status == "in_works"
    response = post(app, client, url, {"status": "cancelled", "note": ""})
    assert response.status_code == 422
    assert "A cancellation needs a public reason." in text(response)
    assert _proposal(codes[0]).execution_status == "in_works"
    response = post(
        app, client, url, {"status": "cancelled", "note": "Desapropriação não autorizada."}
    )
    assert response.status_code == 302
    final = _proposal(codes[0])
    assert (final.execution_status, final.execution_note) == (
        "cancelled",
        "Desapropriação não autorizada.",
    )


def every_action_is_audited_by_the_coordinator(coordinator) -> None:
    """Every action is in the audit log, by this coordinator."""
    actions = audit_actions()
    for action in (
        "cycle.create",
        "cycle.update",
        "phase.create",
        "phase.update",
        "phase.delete",
        "event.create",
        "event.update",
        "event.delete",
        "cycle.budgets",
        "cycle.transition",
        "proposal.create",
        "proposal.status",
        "proposal.review",
        "proposal.execution",
    ):
        assert action in actions, action
    transitions = list(
        db.session.scalars(
            sa.select(AuditEntry.after)
            .where(AuditEntry.action == "cycle.transition")
            .order_by(AuditEntry.id)
        )
    )
    assert [t["state"] for t in transitions] == STATES
    emails = set(db.session.scalars(sa.select(AuditEntry.actor_email)))
    assert emails == {coordinator.email}
