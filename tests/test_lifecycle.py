"""The lifecycle: every state change goes through `cycles.lifecycle.advance`, which runs what its
table says entering the state does (freeze, close, tally, publish); a refused move changes nothing.
"""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.board import services as board
from opdigital.cycles import lifecycle
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.errors import IllegalTransition
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.tally import services as tallies
from opdigital.tally.models import Tally
from opdigital.tally.services import SigningKeyMissing
from tests.support import factories
from tests.support import voting as vs

ORDER = [state.value for state in CycleState]
ALLOWED = sorted(itertools.pairwise(ORDER))
REFUSED = [pair for pair in itertools.product(ORDER, ORDER) if pair not in set(ALLOWED)]
NOT_NEXT = "This cycle cannot move to that state from its current state."


def _state(cycle: Cycle) -> str:
    return vs.reload(cycle).state


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


# --- the table --------------------------------------------------------------------------------


def test_the_table_names_what_entering_each_state_does():
    steps = lifecycle.STEPS
    assert set(steps) == {
        CycleState.BALLOT_FROZEN,
        CycleState.CLOSED,
        CycleState.TALLIED,
        CycleState.PUBLISHED,
    }
    assert steps[CycleState.BALLOT_FROZEN].enter is lifecycle._freeze_ballot
    assert steps[CycleState.CLOSED].after is board.seal_all
    assert steps[CycleState.TALLIED].prepare is tallies.seal_for_count
    assert steps[CycleState.TALLIED].enter is tallies.count


@pytest.fixture
def recorded(monkeypatch):
    """Every state's step replaced by one that notes (hook, state entered, cycle's state)."""
    calls: list[tuple[str, str, str]] = []

    def step(state: CycleState) -> lifecycle.Step:
        return lifecycle.Step(
            prepare=lambda cycle: calls.append(("prepare", state, cycle.state)),
            enter=lambda cycle, actor: calls.append(("enter", state, cycle.state)),
            after=lambda cycle: calls.append(("after", state, cycle.state)),
        )

    for state in CycleState:
        monkeypatch.setitem(lifecycle.STEPS, state, step(state))
    return calls


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_an_allowed_move_runs_its_step_changes_state_and_is_audited(
    app_ctx, recorded, current, target
):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state=current)
    outcome = lifecycle.advance(cycle, target, actor)
    # Prepared before the lock, entered under it, and the "after" once the state is committed.
    assert recorded == [
        ("prepare", target, current),
        ("enter", target, current),
        ("after", target, target),
    ]
    assert (outcome.cycle.id, outcome.previous, outcome.state, outcome.tally) == (
        cycle.id,
        current,
        target,
        None,
    )
    assert _state(cycle) == target
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "cycle.transition"))
    assert entry.actor_email == actor.email
    assert entry.object_id == cycle.slug
    assert entry.before == {"state": current}
    assert entry.after == {"state": target}


@pytest.mark.parametrize(("current", "target"), [*REFUSED, ("draft", "finished")])
def test_a_refused_move_runs_nothing_and_changes_nothing(app_ctx, recorded, current, target):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state=current)
    factories.proposal(cycle, status="accepted")
    with pytest.raises(IllegalTransition, match=NOT_NEXT):
        lifecycle.advance(cycle, target, actor)
    assert recorded == []
    assert _state(cycle) == current
    assert _actions() == []


def test_a_move_made_meanwhile_is_refused_under_the_lock(app_ctx, monkeypatch):
    """Another request moved the cycle while this one prepared: the locked row says so."""
    cycle = factories.cycle(state="closed")
    entered = []

    def someone_else_tallies(prepared: Cycle) -> None:
        db.session.execute(sa.update(Cycle).where(Cycle.id == prepared.id).values(state="tallied"))
        db.session.commit()

    monkeypatch.setitem(
        lifecycle.STEPS,
        CycleState.TALLIED,
        lifecycle.Step(prepare=someone_else_tallies, enter=lambda c, a: entered.append(c)),
    )
    with pytest.raises(IllegalTransition, match=NOT_NEXT):
        lifecycle.advance(cycle, CycleState.TALLIED, factories.user("coordinator"))
    assert entered == []
    assert _state(cycle) == "tallied"
    assert _actions() == []


# --- freezing the ballot ----------------------------------------------------------------------


def test_freeze_puts_accepted_proposals_on_the_ballot(app_ctx):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state="under_review")
    accepted = factories.proposal(cycle, status="accepted")
    rejected = factories.proposal(cycle, status="rejected")
    lifecycle.advance(cycle, "ballot_frozen", actor)
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
        lifecycle.advance(cycle, "ballot_frozen", actor)
    assert excinfo.value.code == "proposals_pending"
    assert pending.code in excinfo.value.message
    db.session.expire_all()
    assert cycle.state == "under_review"


def test_freeze_refused_with_an_empty_ballot(app_ctx):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state="under_review")
    factories.proposal(cycle, status="rejected")
    with pytest.raises(IllegalTransition) as excinfo:
        lifecycle.advance(cycle, "ballot_frozen", actor)
    assert excinfo.value.code == "empty_ballot"


def test_freeze_refused_without_a_ballot_rule(app_ctx):
    actor = factories.user("coordinator")
    cycle = factories.cycle(state="under_review", ballot_rule=None)
    accepted = factories.proposal(cycle, status="accepted")
    with pytest.raises(IllegalTransition):
        lifecycle.advance(cycle, "ballot_frozen", actor)
    db.session.expire_all()
    assert (cycle.state, accepted.status) == ("under_review", "accepted")
    assert _actions() == []


# --- closing, tallying, publishing ------------------------------------------------------------


def _voted(client):
    world = vs.voting_cycle()
    a, b, c = world.ids[:3]
    vs.cast_all(client, world, [[a, b], [a, c], [b, c]], first=300)
    return world


def test_close_tally_publish_run_the_board_and_the_tally(app_ctx, client, signing_key):
    world = _voted(client)

    closed = lifecycle.advance(vs.reload(world.cycle), CycleState.CLOSED, None)
    head = board.stored_head(world.cycle.id)
    assert (closed.state, closed.tally, head.seq, head.pending) == ("closed", None, 3, 0)

    tallied = lifecycle.advance(closed.cycle, CycleState.TALLIED, None)
    record = tallied.tally
    assert record is db.session.get(Tally, world.cycle.id)
    assert record.result["ballots"] == 3 and record.published_at is None
    statuses = set(db.session.scalars(sa.select(Proposal.status)))
    assert statuses <= {"selected", "not_selected"} and "selected" in statuses

    published = lifecycle.advance(tallied.cycle, CycleState.PUBLISHED, None)
    assert published.tally.sha256 == record.sha256
    assert published.tally.published_at is not None
    assert _state(world.cycle) == "published"
    actions = [a for a in _actions() if a.startswith("cycle.")]
    assert actions == ["cycle.transition", "cycle.tally", "cycle.transition", "cycle.transition"]


def test_a_tally_without_its_signing_key_changes_nothing(app_ctx, client, settings, tmp_path):
    world = _voted(client)
    lifecycle.advance(vs.reload(world.cycle), CycleState.CLOSED, None)
    settings(SIGNING_KEY_PATH=str(tmp_path / "missing.pem"))
    before = _actions()
    with pytest.raises(SigningKeyMissing, match="keys generate"):
        lifecycle.advance(vs.reload(world.cycle), CycleState.TALLIED, None)
    assert _state(world.cycle) == "closed"
    assert db.session.get(Tally, world.cycle.id) is None
    assert _actions() == before


def test_publishing_without_a_package_is_refused(app_ctx):
    cycle = factories.cycle(state="tallied")
    with pytest.raises(IllegalTransition) as excinfo:
        lifecycle.advance(cycle, CycleState.PUBLISHED, None)
    assert excinfo.value.code == "no_tally"
    assert _state(cycle) == "tallied"
    assert _actions() == []
