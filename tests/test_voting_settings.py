"""Voting settings: the service (checks, storage, audit, the pure rule it builds) and the
coordinator's screen (access, form, errors, CSRF, read-only after the freeze)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.counting.ballot_rules import BallotProject, BallotRule, validate_ballot
from opdigital.cycles.models import Cycle, RegionBudget
from opdigital.errors import BallotLocked, ValidationFailed
from opdigital.extensions import db
from opdigital.voting import settings as voting
from opdigital.voting.settings import VotingSettings
from tests.support import factories
from tests.support.coordination import audit_count, post, sign_in, text
from tests.support.coordination import voting_settings_form as form


@pytest.fixture
def staff(app_ctx):
    return factories.user("coordinator")


@pytest.fixture
def cycle(app_ctx):
    return factories.cycle(slug="op-2026", title="OP Digital 2026", ballot_rule=None)


def _reload(cycle_id: int) -> Cycle:
    db.session.expire_all()
    return db.session.get(Cycle, cycle_id)


def _budget(cycle: Cycle, region, cents: int) -> None:
    db.session.add(RegionBudget(cycle_id=cycle.id, region_id=region.id, amount_cents=cents))
    db.session.commit()


def _refused(cycle, settings, staff) -> str:
    with pytest.raises(ValidationFailed) as caught:
        voting.configure_voting(cycle, settings, staff)
    db.session.rollback()
    return caught.value.code


# --- service -------------------------------------------------------------------------------


def test_configure_stores_every_setting_and_audits_before_and_after(cycle, staff):
    region = factories.region()
    settings = VotingSettings(
        ballot_rule="approval",
        counting_rule="greedy",
        min_choices=2,
        max_choices=5,
        per_region=False,
        min_voter_age=16,
        max_voter_age=None,
        age_reference_date=date(2026, 11, 1),
        restrict_region_id=region.id,
        registry_scope="cycle",
        shuffle_ballot=False,
        show_running_totals=True,
    )
    voting.configure_voting(cycle, settings, staff)
    stored = _reload(cycle.id)
    assert stored.ballot_rule == "approval"
    assert stored.counting_rule == "greedy"
    assert stored.ballot_rule_params == {"min_choices": 2, "max_choices": 5}
    assert (stored.min_voter_age, stored.max_voter_age) == (16, None)
    assert stored.age_reference_date == date(2026, 11, 1)
    assert stored.restrict_region_id == region.id
    assert stored.registry_scope == f"cycle:{cycle.id}"
    assert (stored.shuffle_ballot, stored.show_running_totals) == (False, True)
    assert voting.settings_of(stored) == settings
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "cycle.voting_settings")
    )
    assert entry.actor_email == staff.email and entry.object_id == "op-2026"
    assert entry.before["ballot_rule"] == "" and entry.before["registry_scope"] == "city"
    assert entry.after["ballot_rule"] == "approval"
    assert entry.after["age_reference_date"] == "2026-11-01"


def test_parameters_a_rule_does_not_read_are_not_stored(cycle, staff):
    settings = VotingSettings("one-city-wide", "plurality-per-region", 2, 3, 50, per_region=True)
    voting.configure_voting(cycle, settings, staff)
    stored = _reload(cycle.id)
    assert stored.ballot_rule_params == {}
    assert voting.ballot_rule_for(stored) == BallotRule("one-city-wide", budget_cents=50_000_000_00)


def test_ballot_rule_for_builds_the_pure_rule_with_budgets(cycle, staff):
    north, south = factories.region(), factories.region()
    _budget(cycle, north, 30_000_000_00)
    _budget(cycle, south, 20_000_000_00)
    factories.proposal(cycle, region_id=north.id)
    factories.proposal(cycle, region_id=south.id)
    settings = VotingSettings(
        "knapsack", "mes", min_budget_share_percent=40, per_region=True, max_choices=3
    )
    voting.configure_voting(cycle, settings, staff)
    rule = voting.ballot_rule_for(_reload(cycle.id))
    assert rule.kind == "knapsack" and rule.per_region
    assert rule.min_budget_share_percent == 40 and rule.max_choices == 3
    assert rule.budget_cents == 50_000_000_00
    assert dict(rule.region_budgets) == {north.id: 30_000_000_00, south.id: 20_000_000_00}


def test_the_demo_rule_stays_valid(cycle):
    # opdigital/demo/common.py set_rules writes the columns itself with its own parameter.
    cycle.ballot_rule, cycle.counting_rule = "one-per-region", "plurality-per-region"
    cycle.ballot_rule_params = {"max_choices_per_region": 1}
    db.session.commit()
    assert voting.ballot_rule_for(_reload(cycle.id)) == BallotRule(
        "one-per-region", budget_cents=50_000_000_00
    )


def test_ballot_rule_for_a_cycle_without_rule_is_refused(cycle):
    with pytest.raises(ValidationFailed) as caught:
        voting.ballot_rule_for(cycle)
    assert caught.value.code == "no_ballot_rule"


def test_ballot_projects_are_the_proposals_on_the_ballot_at_their_reviewed_cost(cycle):
    region = factories.region()
    on = factories.proposal(cycle, status="on_ballot", region_id=region.id)
    reviewed = factories.proposal(
        cycle, status="on_ballot", estimated_cost_cents=500, reviewed_cost_cents=700
    )
    factories.proposal(cycle, status="rejected")
    factories.proposal(cycle, status="accepted")
    other_cycle = factories.cycle()
    foreign = factories.proposal(other_cycle, status="on_ballot")
    projects = voting.ballot_projects(cycle)
    assert projects == [
        BallotProject(on.id, 1_000_000_00, region.id),
        BallotProject(reviewed.id, 700, None),
    ]
    # A proposal of another cycle is unknown on this cycle's ballot.
    rule = BallotRule("approval")
    assert [p.code for p in validate_ballot(rule, projects, [on.id, foreign.id])] == [
        "unknown_project"
    ]


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        (VotingSettings("borda", "greedy"), "unknown_ballot_rule"),
        (VotingSettings("approval", "instant-runoff"), "unknown_counting_rule"),
        (VotingSettings("approval", "greedy", min_choices=3, max_choices=2), "min_above_max"),
        (VotingSettings("approval", "greedy", min_choices=-1), "invalid_limit"),
        (VotingSettings("approval", "greedy", max_choices=0), "invalid_limit"),
        (VotingSettings("approval", "greedy", max_choices=10**6), "invalid_limit"),
        (
            VotingSettings("knapsack", "greedy", min_budget_share_percent=120),
            "share_out_of_range",
        ),
        (VotingSettings("approval", "greedy", registry_scope="state"), "unknown_registry_scope"),
        (VotingSettings("approval", "greedy", min_voter_age=18, max_voter_age=16), "invalid_ages"),
        (VotingSettings("approval", "greedy", min_voter_age=200), "invalid_ages"),
        (
            VotingSettings("approval", "greedy", age_reference_date=date(1066, 10, 14)),
            "invalid_date",
        ),
        (VotingSettings("approval", "greedy", restrict_region_id=999_999), "unknown_region"),
        (VotingSettings("knapsack", "greedy", per_region=True), "no_budget"),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(cycle, staff, settings, code):
    assert _refused(cycle, settings, staff) == code
    stored = _reload(cycle.id)
    assert stored.ballot_rule is None and stored.counting_rule is None
    assert audit_count() == 0


def test_knapsack_needs_a_budget(staff):
    broke = factories.cycle(total_budget_cents=0, ballot_rule=None)
    assert _refused(broke, VotingSettings("knapsack", "plurality-per-region"), staff) == "no_budget"
    assert _refused(broke, VotingSettings("approval", "greedy"), staff) == "counting_needs_budget"
    voting.configure_voting(broke, VotingSettings("one-per-region", "plurality-per-region"), staff)


def test_knapsack_per_region_needs_a_budget_in_each_region_with_proposals(cycle, staff):
    north, south = factories.region(), factories.region()
    _budget(cycle, north, 1_000_00)
    factories.proposal(cycle, region_id=north.id)
    factories.proposal(cycle, region_id=south.id)
    settings = VotingSettings("knapsack", "greedy", per_region=True)
    assert _refused(cycle, settings, staff) == "no_region_budget"
    _budget(cycle, south, 1_000_00)
    voting.configure_voting(_reload(cycle.id), settings, staff)


def test_one_per_region_needs_proposals_in_regions(cycle, staff):
    factories.proposal(cycle, region_id=factories.region().id)
    city_wide = factories.proposal(cycle, region_id=None)
    settings = VotingSettings("one-per-region", "plurality-per-region")
    assert _refused(cycle, settings, staff) == "project_without_region"
    # A rejected proposal will not be on the ballot: it does not count.
    city_wide.status = "rejected"
    db.session.commit()
    voting.configure_voting(_reload(cycle.id), settings, staff)


def test_settings_are_frozen_with_the_ballot(staff):
    frozen = factories.cycle(state="ballot_frozen", ballot_rule="approval", counting_rule="greedy")
    with pytest.raises(BallotLocked):
        voting.configure_voting(frozen, VotingSettings("knapsack", "mes"), staff)
    assert _reload(frozen.id).ballot_rule == "approval"
    assert audit_count() == 0


def test_ensure_voting_configured_checks_the_final_ballot(staff):
    region = factories.region()
    frozen = factories.cycle(state="ballot_frozen", ballot_rule=None)
    factories.proposal(frozen, status="on_ballot", region_id=region.id)
    with pytest.raises(ValidationFailed):
        voting.ensure_voting_configured(frozen)  # no rule chosen
    frozen.ballot_rule, frozen.counting_rule = "one-per-region", "plurality-per-region"
    frozen.ballot_rule_params = {"min_choices": 2}
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        voting.ensure_voting_configured(frozen)  # one region: two choices impossible
    assert caught.value.code == "min_above_available"
    frozen.ballot_rule_params = {}
    db.session.commit()
    voting.ensure_voting_configured(frozen)


# --- the screen ----------------------------------------------------------------------------

URL = "/staff/cycles/op-2026/voting-settings"


def test_anonymous_goes_to_sign_in(app, client, cycle):
    assert client.get(URL).headers["Location"].startswith("/login")
    response = post(app, client, URL, form())
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert audit_count() == 0


def test_auditor_is_forbidden(app, client, cycle):
    sign_in(client, factories.user("auditor"))
    assert client.get(URL).status_code == 403
    assert post(app, client, URL, form()).status_code == 403
    assert audit_count() == 0


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_form_explains_each_rule(client, cycle, role):
    sign_in(client, factories.user(role))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.count("<h1") == 1
    page = text(response)
    assert "As in Belo Horizonte in 2006 and 2011" in page
    assert "As in 2008 and 2013" in page
    assert "As in Decidim" in page
    assert "Method of Equal Shares" in page
    assert "checked" not in body.split('name="ballot_rule"')[1][:80]  # nothing chosen yet
    assert 'name="csrf_token"' in body
    for name in ("min_choices", "max_choices", "age_reference_date", "restrict_region_id"):
        assert f'<label for="{name}">' in body
    # Every checkbox and radio is described by a hint that exists on the page.
    for described in re.findall(r'aria-describedby="([^"]+)"', body):
        for hint_id in described.split():
            assert f'id="{hint_id}"' in body, hint_id


def test_cycle_page_links_to_the_settings(client, cycle, staff):
    sign_in(client, staff)
    body = client.get("/staff/cycles/op-2026").get_data(as_text=True)
    assert f'href="{URL}"' in body


def test_saving_stores_audits_and_prefills(app, client, cycle, staff):
    region = factories.region(name="Pampulha")
    sign_in(client, staff)
    response = post(app, client, URL, form(restrict_region_id=str(region.id)))
    assert response.status_code == 302 and response.headers["Location"] == URL
    stored = _reload(cycle.id)
    assert (stored.ballot_rule, stored.counting_rule) == ("approval", "greedy")
    assert stored.ballot_rule_params == {"min_choices": 1, "max_choices": 5}
    assert stored.restrict_region_id == region.id
    assert stored.age_reference_date == date(2026, 11, 1)
    assert stored.shuffle_ballot is True and stored.show_running_totals is False
    assert audit_count("cycle.voting_settings") == 1
    page = client.get(URL)
    assert "The voting settings were saved." in text(page)
    body = page.get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="approval"', body)
    assert not re.search(r'<input[^>]*checked[^>]*value="knapsack"', body)
    assert re.search(r'<input[^>]*checked[^>]*name="shuffle_ballot"', body)
    assert 'value="5"' in body and 'value="2026-11-01"' in body
    assert f'<option selected value="{region.id}">' in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"min_choices": "4", "max_choices": "2"}, "The maximum must not be below the minimum."),
        ({"min_choices": "abc"}, "Not a valid integer value."),
        ({"max_choices": "0"}, "Number must be between 1 and 1000."),
        ({"ballot_rule": "borda"}, "Not a valid choice."),
        ({"ballot_rule": ""}, "Choose a ballot rule."),
        ({"counting_rule": "dhondt"}, "Not a valid choice."),
        ({"registry_scope": "state"}, "Not a valid choice."),
        ({"restrict_region_id": "999999"}, "Not a valid choice."),
        ({"restrict_region_id": "abc"}, "Invalid Choice"),
        ({"age_reference_date": "1st of May"}, "Enter a date, for example 2026-03-01."),
        ({"min_budget_share_percent": "150"}, "Number must be between 0 and 100."),
        ({"min_voter_age": "20", "max_voter_age": "10"}, "must not be below the minimum age"),
    ],
)
def test_bad_input_is_422_with_a_message(app, client, cycle, staff, data, message):
    sign_in(client, staff)
    response = post(app, client, URL, form(**data))
    assert response.status_code == 422
    assert message in text(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True) or "field-error" in (
        response.get_data(as_text=True)
    )
    assert audit_count() == 0


def test_a_refusal_by_the_service_is_422_with_its_message(app, client, staff):
    factories.cycle(slug="op-2026", total_budget_cents=0, ballot_rule=None)
    sign_in(client, staff)
    response = post(app, client, URL, form(ballot_rule="knapsack", counting_rule="mes"))
    assert response.status_code == 422
    assert "A knapsack ballot needs a budget" in text(response)
    assert audit_count() == 0


def test_csrf_is_required(client, cycle, staff):
    sign_in(client, staff)
    assert client.post(URL, data=form()).status_code == 400
    assert client.post(URL, data={"csrf_token": "forged", **form()}).status_code == 400
    assert _reload(cycle.id).ballot_rule is None


def test_unknown_cycle_is_404(client, staff):
    sign_in(client, staff)
    assert client.get("/staff/cycles/nope/voting-settings").status_code == 404


def test_after_the_freeze_the_page_is_read_only(app, client, staff):
    region = factories.region(name="Venda Nova")
    factories.cycle(
        slug="op-2026",
        state="voting",
        ballot_rule="one-per-region",
        counting_rule="plurality-per-region",
        ballot_rule_params={"max_choices_per_region": 1},
        min_voter_age=16,
        restrict_region_id=region.id,
    )
    sign_in(client, staff)
    response = client.get(URL)
    assert response.status_code == 200
    page = text(response)
    assert "its voting settings can no longer change" in page
    assert "One choice per region" in page and "Most voted in each region" in page
    assert "16 years or older" in page and "Residents of Venda Nova only" in page
    assert "<form" not in response.get_data(as_text=True).split("<main")[1]
    refused = post(app, client, URL, form())
    assert refused.status_code == 409
    assert "frozen" in text(refused)
    assert audit_count() == 0


# --- own region only -----------------------------------------------------------------------


def test_own_region_only_is_stored_audited_and_builds_the_rule(cycle, staff):
    factories.proposal(cycle, region_id=factories.region().id)
    settings = VotingSettings("approval", "greedy", own_region_only=True)
    voting.configure_voting(cycle, settings, staff)
    stored = _reload(cycle.id)
    assert stored.ballot_rule_params == {"own_region_only": True}
    assert voting.settings_of(stored).own_region_only is True
    assert voting.ballot_rule_for(stored).own_group == "region"
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "cycle.voting_settings")
    )
    assert entry.before["own_region_only"] is False and entry.after["own_region_only"] is True


def test_own_region_only_in_opca_compares_schools(staff):
    opca = factories.cycle(kind="opca", ballot_rule=None)
    voting.configure_voting(opca, VotingSettings("approval", "greedy", own_region_only=True), staff)
    assert voting.ballot_rule_for(_reload(opca.id)).own_group == "school"


def test_own_region_only_needs_every_proposal_in_a_region(cycle, staff):
    factories.proposal(cycle, region_id=None)
    settings = VotingSettings("one-city-wide", "greedy", own_region_only=True)
    assert _refused(cycle, settings, staff) == "project_without_region"
    assert _reload(cycle.id).ballot_rule_params in ({}, None)


def test_the_form_shows_and_saves_own_region_only(app, client, cycle, staff):
    sign_in(client, staff)
    body = client.get(URL).get_data(as_text=True)
    assert 'name="own_region_only"' in body and 'id="own_region_only-hint"' in body
    response = post(app, client, URL, form(own_region_only="y"))
    assert response.status_code == 302
    assert _reload(cycle.id).ballot_rule_params["own_region_only"] is True
    assert re.search(r'<input[^>]*checked[^>]*name="own_region_only"', client.get(URL).text)
