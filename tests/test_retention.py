"""Retention: purging rolls after the tally (their counts kept), blanking proposer contacts a
set time after their cycle ends, the scheduled run and the coordinator's screen."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.ledger.verify import verify_package
from opdigital.proposals.models import Proposal
from opdigital.registry.models import CITY_SCOPE, RegistryEntry, cycle_scope, delegate_scope
from opdigital.retention.models import RollCount
from opdigital.tally.models import Tally
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import assert_access_by_role
from tests.support.coordination import sign_in


def _entries(scope: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(RegistryEntry).where(RegistryEntry.scope == scope)
    )


def _actions(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _own_roll_cycle(client, *, voters: int = 3, non_voters: int = 2, first: int = 900):
    """A voting cycle with its own roll in the Centro-Sul region: `voters` vote, the others
    do not; plus one delegate-roll entry."""
    region = factories.region(slug="centro-sul", name="Centro-Sul")
    world = vs.voting_cycle()
    world.cycle.registry_scope = cycle_scope(world.cycle.id)
    db.session.commit()
    world.region = region
    scope = cycle_scope(world.cycle.id)
    for n in range(voters + non_voters):
        number = vs.make_titulo(first + n)
        vs.register(number, region=region, scope=scope)
        if n < voters:
            choices = world.ids[:2] if n % 2 else world.ids[1:3]
            response = vs.post_ballot(client, world.slug, vs.body(number, choices))
            assert response.status_code == 201, response.get_json()
    vs.register(vs.make_titulo(first + 50), scope=delegate_scope(world.cycle.id))
    return world


def _tally(runner, world, tmp_path) -> None:
    closed = runner.invoke(args=["cycle", "close", world.slug])
    assert closed.exit_code == 0, closed.output
    out = tmp_path / f"{world.slug}.zip"
    counted = runner.invoke(args=["tally", world.slug, "--out", str(out)])
    assert counted.exit_code == 0, counted.output


def test_purge_is_refused_before_the_tally(app_ctx, client, runner):
    world = _own_roll_cycle(client)
    result = runner.invoke(args=["registry", "purge", world.slug])
    assert result.exit_code == 1
    assert "kept until the cycle is tallied" in result.output
    assert _entries(cycle_scope(world.cycle.id)) == 5
    assert not _actions("registry.purge")
    missing = runner.invoke(args=["registry", "purge", "no-such-cycle"])
    assert missing.exit_code == 2


def test_purge_after_the_tally_keeps_the_counts_and_the_package(
    app_ctx, client, runner, signing_key, coordinator, tmp_path
):
    world = _own_roll_cycle(client)
    _tally(runner, world, tmp_path)
    before = client.get(f"/staff/cycles/{world.slug}/turnout").get_data(as_text=True)
    assert "of the 5 people on the roll" in before
    package = db.session.get(Tally, world.cycle.id).package

    dry = runner.invoke(args=["registry", "purge", world.slug, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"Roll cycle:{world.cycle.id}: 5 entries would be deleted." in dry.output
    assert _entries(cycle_scope(world.cycle.id)) == 5  # a dry run changes nothing
    assert not _actions("registry.purge")

    done = runner.invoke(args=["registry", "purge", world.slug])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert _entries(cycle_scope(world.cycle.id)) == 0
    assert _entries(delegate_scope(world.cycle.id)) == 0
    kept = db.session.scalars(sa.select(RollCount).where(RollCount.cycle_id == world.cycle.id))
    assert [(c.region_id, c.eligible) for c in kept] == [(world.region.id, 5)]
    (entry,) = _actions("registry.purge")
    assert entry.object_id == world.slug
    assert entry.after["entries"] == {
        cycle_scope(world.cycle.id): 5,
        delegate_scope(world.cycle.id): 1,
    }

    # The turnout page still shows the roll's size, from the counts kept.
    after = client.get(f"/staff/cycles/{world.slug}/turnout").get_data(as_text=True)
    assert "of the 5 people on the roll" in after
    assert "Centro-Sul" in after
    # The board, the package and its verification are untouched.
    stored = db.session.get(Tally, world.cycle.id)
    assert stored.package == package
    assert verify_package(stored.package)
    assert runner.invoke(args=["cycle", "publish", world.slug]).exit_code == 0
    public = client.get(f"/api/v1/cycles/{world.slug}/tally.zip")
    assert public.status_code == 200 and public.data == package
    assert client.get(f"/ciclos/{world.slug}/resultados").status_code == 200
    # Purging again finds nothing and writes nothing.
    again = runner.invoke(args=["registry", "purge", world.slug])
    assert again.exit_code == 0, again.output
    assert len(_actions("registry.purge")) == 1


def test_the_city_roll_stays_while_a_city_cycle_is_open(
    app_ctx, client, runner, signing_key, tmp_path
):
    tallied = vs.voting_cycle()
    vs.cast_all(client, tallied, [tallied.ids[:2], tallied.ids[1:3]], first=950)
    _tally(runner, tallied, tmp_path)
    still_voting = vs.voting_cycle()  # also uses the city's roll (the default)
    refused = runner.invoke(args=["registry", "purge", "--city"])
    assert refused.exit_code == 1
    assert still_voting.slug in refused.output
    assert _entries(CITY_SCOPE) == 2

    vs.cast_all(client, still_voting, [still_voting.ids[:2]], first=960)
    _tally(runner, still_voting, tmp_path)
    done = runner.invoke(args=["registry", "purge", "--city"])
    assert done.exit_code == 0, done.output
    assert _entries(CITY_SCOPE) == 0
    # Both cycles' eligible counts were kept (an age bound applies to neither: 3 voters).
    for world in (tallied, still_voting):
        kept = db.session.scalars(sa.select(RollCount).where(RollCount.cycle_id == world.cycle.id))
        assert sum(c.eligible for c in kept) == 3
    (entry,) = _actions("registry.purge")
    assert (entry.object_type, entry.object_id) == ("roll", "city")


def test_contacts_expire_after_the_period_and_not_before(app_ctx, runner, time_machine, settings):
    settings(PROPOSER_CONTACT_RETENTION_DAYS=365)
    start = now()
    cycle = factories.cycle(
        state="monitoring",
        phases=[("voting", start - timedelta(days=30), start - timedelta(days=20))],
    )
    held = factories.proposal(cycle, contact="ana@example.org", author_name="Ana")
    empty = factories.proposal(cycle, contact="")
    ends = start - timedelta(days=20)

    time_machine.move_to(ends + timedelta(days=364), tick=False)
    early = runner.invoke(args=["retention", "run"])
    assert early.exit_code == 0, early.output
    db.session.expire_all()
    assert db.session.get(Proposal, held.id).contact == "ana@example.org"
    assert not _actions("proposal.contact_expired")

    time_machine.move_to(ends + timedelta(days=365, minutes=1), tick=False)
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert "Would blank 1 proposer contacts" in dry.output
    db.session.expire_all()
    assert db.session.get(Proposal, held.id).contact == "ana@example.org"

    done = runner.invoke(args=["retention", "run"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    proposal = db.session.get(Proposal, held.id)
    assert proposal.contact == ""
    assert proposal.author_name == "Ana"  # published with consent: it stays with the proposal
    assert proposal.status == held.status
    (entry,) = _actions("proposal.contact_expired")
    assert entry.object_id == held.code
    assert entry.before is None and entry.after is None
    assert "ana@example.org" not in str([e.after for e in _actions("retention.run")])
    assert db.session.get(Proposal, empty.id).contact == ""


def test_the_run_is_idempotent_and_audited(
    app_ctx, client, runner, signing_key, time_machine, tmp_path
):
    world = _own_roll_cycle(client, first=980)
    _tally(runner, world, tmp_path)
    not_yet = runner.invoke(args=["retention", "run"])
    assert not_yet.exit_code == 0, not_yet.output
    assert _entries(cycle_scope(world.cycle.id)) == 5  # within the grace period

    time_machine.move_to(now() + timedelta(days=31), tick=False)
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert f"Would purge roll cycle:{world.cycle.id}: 5 entries." in dry.output
    assert _entries(cycle_scope(world.cycle.id)) == 5

    first = runner.invoke(args=["retention", "run"])
    assert first.exit_code == 0, first.output
    assert "Done: 2 rolls (6 entries)" in first.output
    assert _entries(cycle_scope(world.cycle.id)) == 0

    second = runner.invoke(args=["retention", "run"])
    assert second.exit_code == 0, second.output
    assert "Done: 0 rolls (0 entries), 0 proposer contacts." in second.output
    runs = sorted(_actions("retention.run"), key=lambda e: e.id)
    assert len(runs) == 3  # every real run is logged, dry runs are not
    assert runs[1].after["roll_entries_deleted"] == 6
    assert runs[2].after["roll_entries_deleted"] == 0
    assert len(_actions("registry.purge")) == 1


def test_the_retention_screen(app, app_ctx, client, runner, signing_key, tmp_path):
    world = _own_roll_cycle(client, first=1000)
    _tally(runner, world, tmp_path)
    factories.proposal(world.cycle, contact="11 99999-0000")
    staff = factories.staff_per_role(app)
    assert_access_by_role(
        app, "/staff/retention", staff, {"admin": 200, "coordinator": 200, "auditor": 403}
    )
    sign_in(client, factories.user("coordinator"))
    page = client.get("/staff/retention")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"cycle:{world.cycle.id}" in text
    assert "The retention rules have never run." in text
    runner.invoke(args=["retention", "run"])
    text = client.get("/staff/retention").get_data(as_text=True)
    assert "retention.run" in text
    assert "11 99999-0000" not in text
