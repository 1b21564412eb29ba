"""The ballot page: rules in words, what is left (without JavaScript), refused ballots, order."""

from __future__ import annotations

import re
from datetime import date

import pytest

from opdigital.extensions import db
from opdigital.registry.keys import school_number, voter_key
from opdigital.registry.models import RegistryEntry
from tests.support import factories
from tests.support.client import csrf_token
from tests.support.voting_web import (
    BIRTH,
    build_world,
    confirm,
    english_client,
    identify,
    post_ballot,
    region_field,
    text,
    url,
)

CHECKED = re.compile(r'<input type="(?:radio|checkbox)" id="p-(\d+)"[^>]*\bchecked\b')
INPUT_ORDER = re.compile(r'<input type="(?:radio|checkbox)" id="p-(\d+)"')


def _identified(app, world, index=0):
    client = english_client(app)
    assert identify(client, world, world.voters[index]).status_code == 303
    return client


def _checked(html: str) -> set[int]:
    return {int(i) for i in CHECKED.findall(html)}


# --- refused ballots -----------------------------------------------------------------------


def test_two_in_a_region_is_refused_and_choices_are_kept(app):
    world = build_world(app)
    client = _identified(app, world)
    first, second = world.proposals[0]
    response = post_ballot(client, world, {region_field(world.regions[0]): [first, second]})
    assert response.status_code == 422
    html = text(response)
    assert f"In {world.region_names[0]} you chose 2 proposals: choose only one." in html
    assert _checked(html) == {first, second}


def test_unknown_and_foreign_ids_posted_by_hand(app):
    world = build_world(app)
    other = build_world(app)
    client = _identified(app, world)
    foreign = other.proposals[0][0]
    field = region_field(world.regions[0])
    for value, message in [
        ("999999", "Proposal number 999999 is not on this ballot."),
        (str(foreign), f"Proposal number {foreign} is not on this ballot."),
        ("abc", "One of the choices sent (&#39;abc&#39;) is not a proposal."),
    ]:
        response = post_ballot(client, world, {field: value})
        assert response.status_code == 422, value
        assert message in text(response)


def test_empty_ballot_is_refused(app):
    world = build_world(app)
    client = _identified(app, world)
    response = post_ballot(client, world, {region_field(r): "" for r in world.regions})
    assert response.status_code == 422
    assert "You have not chosen any proposal." in text(response)


def test_too_many_under_approval(app):
    world = build_world(app, rule="approval", params={"max_choices": 2}, per_region=3)
    client = _identified(app, world)
    html = text(client.get(url(world, "cedula")))
    assert html.count('type="checkbox"') == 6 and "Choose from 1 to 2 proposals." in html
    response = post_ballot(client, world, world.all_ids[:3])
    assert response.status_code == 422
    assert "Choose at most 2; you chose 3." in text(response)
    assert _checked(text(response)) == set(world.all_ids[:3])
    assert post_ballot(client, world, world.all_ids[:2]).status_code == 303


def test_over_budget_under_knapsack(app):
    world = build_world(app, rule="knapsack", budget_cents=100_00, cost_cents=40_00)
    client = _identified(app, world)
    response = post_ballot(client, world, world.all_ids[:3])
    assert response.status_code == 422
    html = text(response)
    assert "Your choices cost R$120.00, which is R$20.00 over the budget of R$100.00." in html
    assert "Over the budget by R$20.00" in html


def test_one_city_wide_is_one_radio_group(app):
    world = build_world(app, rule="one-city-wide")
    client = _identified(app, world)
    html = text(client.get(url(world, "cedula")))
    assert html.count('name="choice"') == 4 and html.count('type="radio"') == 4
    assert "Choose one proposal for the whole city." in html
    assert post_ballot(client, world, world.all_ids[:2]).status_code == 422
    assert post_ballot(client, world, world.all_ids[:1]).status_code == 303


# --- what is left, without JavaScript ------------------------------------------------------


def test_check_my_choices_recomputes_the_budget_left(app):
    world = build_world(app, rule="knapsack", budget_cents=100_00, cost_cents=30_00)
    client = _identified(app, world)
    html = text(client.get(url(world, "cedula")))
    assert "Budget left: R$100.00" in html
    assert 'src="/static/js/ballot.js"' in html and "<script>" not in html
    response = post_ballot(client, world, world.all_ids[:2], action="check")
    assert response.status_code == 200
    html = text(response)
    assert "Budget left: R$40.00" in html and "Chosen: 2" in html
    assert _checked(html) == set(world.all_ids[:2])
    assert "Before you review your vote" not in html  # a valid ballot has nothing to fix


def test_check_shows_choices_left_per_region(app):
    world = build_world(app, regions=3)
    client = _identified(app, world)
    response = post_ballot(
        client, world, {region_field(world.regions[0]): world.proposals[0][0]}, action="check"
    )
    html = text(response)
    assert "Choices left: 2" in html  # two regions still open
    assert html.count("Choices left: 0") == 1 and html.count("Choices left: 1") == 2


def test_check_with_problems_explains_them_without_refusing(app):
    world = build_world(app, rule="knapsack", budget_cents=50_00, cost_cents=30_00)
    client = _identified(app, world)
    response = post_ballot(client, world, world.all_ids[:2], action="check")
    assert response.status_code == 200
    assert "Before you review your vote" in text(response)
    assert "R$10.00 over the budget" in text(response)


def test_change_keeps_the_reviewed_choices(app):
    world = build_world(app)
    client = _identified(app, world)
    chosen = {region_field(world.regions[1]): world.proposals[1][0]}
    assert post_ballot(client, world, chosen).status_code == 303
    html = text(client.get(url(world, "cedula")))
    assert _checked(html) == {world.proposals[1][0]}
    assert (
        f'id="none-{world.regions[0]}" name="{region_field(world.regions[0])}" value="" checked'
        in html
    )


# --- order ---------------------------------------------------------------------------------


def _order(client, world) -> list[int]:
    return [int(i) for i in INPUT_ORDER.findall(text(client.get(url(world, "cedula"))))]


def test_shuffle_differs_between_voters_and_is_stable_for_one(app):
    world = build_world(app, rule="approval", regions=1, per_region=12, shuffle=True)
    first, second = _identified(app, world, 0), _identified(app, world, 1)
    order_one, order_two = _order(first, world), _order(second, world)
    assert sorted(order_one) == sorted(order_two) == sorted(world.all_ids)
    assert order_one != order_two
    assert _order(first, world) == order_one
    again = english_client(app)
    identify(again, world, world.voters[0])
    assert _order(again, world) == order_one


def test_no_shuffle_lists_by_region_then_id(app):
    world = build_world(app, rule="approval", regions=2, per_region=3, shuffle=False)
    client = _identified(app, world)
    assert _order(client, world) == world.all_ids


# --- OPCA ----------------------------------------------------------------------------------


@pytest.mark.parametrize("birth, expected", [(BIRTH, 303), (date(2001, 1, 1), 403)])
def test_opca_pupils_identify_by_school_and_enrolment(app, birth, expected):
    world = build_world(app, rule="one-city-wide")
    with app.app_context():
        from opdigital.cycles.models import Cycle

        cycle = db.session.get(Cycle, world.cycle_id)
        cycle.kind = "opca"
        school = factories.school(slug="escola-municipal-x", name="Escola X")
        key = voter_key(school_number(school.slug, "00123"), app.config["VOTER_KEY_PEPPER"])
        db.session.add(
            RegistryEntry(scope="city", voter_key=key, birth_date=BIRTH, school_id=school.id)
        )
        db.session.commit()
    client = english_client(app)
    page = text(client.get(url(world)))
    assert 'name="school"' in page and "Escola X" in page and 'name="titulo"' not in page
    token = csrf_token(client, url(world))
    data = {
        "csrf_token": token,
        "school": "escola-municipal-x",
        "enrolment": "123",
        "birth_date": birth.isoformat(),
    }
    response = client.post(url(world), data=data)
    assert response.status_code == expected
    if expected == 403:
        assert "Check your school, enrolment number and birth date." in text(response)
        assert 'value="123"' not in text(response)
    else:
        assert post_ballot(client, world, world.all_ids[:1]).status_code == 303
        assert confirm(client, world).status_code == 303


def test_birth_date_typed_the_brazilian_way(app):
    world = build_world(app)
    client = english_client(app)
    token = csrf_token(client, url(world))
    data = {
        "csrf_token": token,
        "titulo": world.voters[0],
        "birth_date": BIRTH.strftime("%d/%m/%Y"),
    }
    assert client.post(url(world), data=data).status_code == 303


# --- own region only -----------------------------------------------------------------------


def test_own_region_only_shows_and_accepts_only_the_voters_region(app):
    world = build_world(app, rule="approval", params={"own_region_only": True})
    client = _identified(app, world)  # the first voter lives in the first region
    page = client.get(url(world, "cedula"))
    html = text(page)
    assert "This ballot shows only the works of your region: you may choose only those." in html
    assert {int(i) for i in INPUT_ORDER.findall(html)} == set(world.proposals[0])
    theirs = world.proposals[1][0]
    response = post_ballot(client, world, [world.proposals[0][0], theirs])
    assert response.status_code == 422
    title = world.titles[theirs]
    assert f"“{title}” is not a work of your region: choose only works of your own." in text(
        response
    )
    assert post_ballot(client, world, [world.proposals[0][0]]).status_code == 303
    assert confirm(client, world).status_code == 303
