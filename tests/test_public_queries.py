"""The shared queries behind the API and the public pages: drafts are never public, and what
is missing is a NotFound with a stable code (the API shows its message, a page its plain 404)."""

from __future__ import annotations

import pytest

from opdigital.cycles.queries import public_cycle, public_cycles
from opdigital.errors import NotFound
from opdigital.proposals.queries import public_proposal, public_proposals
from opdigital.regions.queries import region_by_slug, school_by_slug
from tests.support import factories


def _missing(load, *args) -> str:
    with pytest.raises(NotFound) as caught:
        load(*args)
    return caught.value.code


def test_a_draft_is_as_unknown_as_a_slug_that_names_nothing(app_ctx):
    draft = factories.cycle(state="draft")
    public = factories.cycle(state="open_for_proposals")
    assert public_cycle(public.slug) is public
    assert _missing(public_cycle, draft.slug) == "cycle_not_found"
    assert _missing(public_cycle, "nao-existe") == "cycle_not_found"
    listed = {c.slug for c in public_cycles()}
    assert public.slug in listed and draft.slug not in listed


def test_a_drafts_proposals_are_not_public(app_ctx):
    draft = factories.cycle(state="draft")
    public = factories.cycle(state="open_for_proposals")
    hidden, shown = factories.proposal(draft), factories.proposal(public)
    assert public_proposal(shown.code) is shown
    assert _missing(public_proposal, hidden.code) == "proposal_not_found"
    assert public_proposals(public) == [shown]


def test_a_proposal_of_a_school_is_in_the_schools_region(app_ctx):
    cycle = factories.cycle(state="open_for_proposals")
    north, south = factories.region(), factories.region()
    school = factories.school(north)
    at_school = factories.proposal(cycle, school_id=school.id)
    in_south = factories.proposal(cycle, region_id=south.id)
    assert public_proposals(cycle, region=north) == [at_school]
    assert public_proposals(cycle, region=south) == [in_south]
    assert public_proposals(cycle, status="selected") == []


def test_no_slug_is_no_filter_and_an_unknown_one_is_not_found(app_ctx):
    region = factories.region()
    school = factories.school(region)
    assert region_by_slug(None) is None and school_by_slug("") is None
    assert region_by_slug(region.slug) is region and school_by_slug(school.slug) is school
    assert _missing(region_by_slug, "atlantida") == "region_not_found"
    assert _missing(school_by_slug, "nenhuma") == "school_not_found"
