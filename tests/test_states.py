"""Every cycle state transition, allowed and refused, through the one transition service."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.cycles import services
from opdigital.cycles.states import CycleState, can_transition, next_state
from opdigital.errors import IllegalTransition
from opdigital.extensions import db
from tests import factories

ORDER = [
    "draft",
    "open_for_proposals",
    "under_review",
    "ballot_frozen",
    "voting",
    "closed",
    "tallied",
    "published",
    "monitoring",
]
ALLOWED = set(itertools.pairwise(ORDER))
ALL_PAIRS = list(itertools.product(ORDER, ORDER))


def test_state_order_is_the_documented_line():
    assert [s.value for s in CycleState] == ORDER
    assert next_state(CycleState.MONITORING) is None


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_can_transition_only_to_the_next_state(current, target):
    assert can_transition(current, target) == ((current, target) in ALLOWED)


def test_unknown_states_are_refused():
    assert not can_transition("draft", "finished")
    assert not can_transition("nonsense", "draft")


def _cycle_ready_for(state: str):
    """A cycle in `state` whose ballot can be frozen (one accepted proposal)."""
    cycle = factories.cycle(state=state)
    factories.proposal(cycle, status="accepted")
    return cycle


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transition_changes_state_and_is_audited(app_ctx, current, target):
    actor = factories.user("coordinator")
    cycle = _cycle_ready_for(current)
    services.transition(cycle, target, actor)
    db.session.expire_all()
    assert db.session.get(type(cycle), cycle.id).state == target
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "cycle.transition"))
    assert entry.actor_email == actor.email
    assert entry.object_id == cycle.slug
    assert entry.before == {"state": current}
    assert entry.after == {"state": target}


REFUSED = [pair for pair in ALL_PAIRS if pair not in ALLOWED]


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_refused_transition_leaves_state_and_log_untouched(app_ctx, current, target):
    actor = factories.user("coordinator")
    cycle = _cycle_ready_for(current)
    with pytest.raises(IllegalTransition):
        services.transition(cycle, target, actor)
    db.session.expire_all()
    assert db.session.get(type(cycle), cycle.id).state == current
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_freeze_puts_accepted_proposals_on_the_ballot(app_ctx):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state="under_review")
    accepted = factories.proposal(cycle, status="accepted")
    rejected = factories.proposal(cycle, status="rejected")
    services.transition(cycle, "ballot_frozen", actor)
    db.session.expire_all()
    assert accepted.status == "on_ballot"
    assert rejected.status == "rejected"
    assert cycle.ballot_frozen_at is not None
    assert [h.to_status for h in accepted.history] == ["accepted", "on_ballot"]


def test_freeze_refused_while_proposals_are_pending(app_ctx):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state="under_review")
    factories.proposal(cycle, status="accepted")
    pending = factories.proposal(cycle, status="under_review")
    with pytest.raises(IllegalTransition) as excinfo:
        services.transition(cycle, "ballot_frozen", actor)
    assert excinfo.value.code == "proposals_pending"
    assert pending.code in excinfo.value.message
    db.session.expire_all()
    assert cycle.state == "under_review"


def test_freeze_refused_with_an_empty_ballot(app_ctx):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state="under_review")
    factories.proposal(cycle, status="rejected")
    with pytest.raises(IllegalTransition) as excinfo:
        services.transition(cycle, "ballot_frozen", actor)
    assert excinfo.value.code == "empty_ballot"


def test_freeze_refused_without_a_ballot_rule(app_ctx):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state="under_review", ballot_rule=None)
    accepted = factories.proposal(cycle, status="accepted")
    with pytest.raises(IllegalTransition):
        services.transition(cycle, "ballot_frozen", actor)
    db.session.expire_all()
    assert (cycle.state, accepted.status) == ("under_review", "accepted")
