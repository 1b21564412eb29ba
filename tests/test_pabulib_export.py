"""`opdigital pb export`: a cycle's ballots as an anonymised Pabulib file."""

from __future__ import annotations

import hashlib
import io
import random
from collections import Counter
from datetime import UTC, datetime
from fractions import Fraction

import sqlalchemy as sa
from pabutools.election.pabulib import parse_pabulib, parse_pabulib_from_string

from opdigital.counting.pabulib import parse_pb, read_pb
from opdigital.cycles.lifecycle import advance
from opdigital.extensions import db
from opdigital.tally.pabulib_export import closed_at, export_cycle
from opdigital.voting.models import Ballot
from tests.support import factories

VOTING = ("voting", datetime(2026, 9, 1, 11, tzinfo=UTC), datetime(2026, 9, 16, 3, tzinfo=UTC))


def make_cycle(n_ballots: int = 50):
    """A cycle with three proposals on the ballot (two regions), one rejected, and ballots."""
    north, south = factories.region(name="Norte"), factories.region(name="Barreiro")
    cycle = factories.cycle(
        phases=[VOTING], total_budget_cents=250_000_50, counting_rule="mes", edition=2026
    )
    on_ballot = [
        factories.proposal(
            cycle, status="on_ballot", estimated_cost_cents=cost, region_id=region.id
        )
        for cost, region in ((100_000_00, north), (80_000_25, south), (120_000_00, north))
    ]
    on_ballot[1].reviewed_cost_cents = 90_000_10  # the reviewed cost is the one that counts
    rejected = factories.proposal(cycle, status="rejected")
    ids = [p.id for p in on_ballot]
    r = random.Random(1)
    choices = [sorted(r.sample(ids, r.randint(1, 3))) for _ in range(n_ballots)]
    for k, chosen in enumerate(choices):
        receipt = hashlib.sha256(f"{cycle.id}-{k}".encode()).hexdigest()
        db.session.add(Ballot(cycle_id=cycle.id, receipt_hash=receipt, choices=chosen))
    db.session.commit()
    return cycle, on_ballot, rejected, choices


def test_export_writes_projects_costs_meta_and_every_ballot(app_ctx):
    cycle, on_ballot, rejected, choices = make_cycle()
    out = io.StringIO()
    assert export_cycle(cycle.slug, out, rng=random.Random(3)) == 50
    text = out.getvalue()
    pb = parse_pb(text)
    assert [p.id for p in pb.instance.projects] == [str(p.id) for p in on_ballot]
    assert str(rejected.id) not in {p.id for p in pb.instance.projects}
    assert [p.cost * 100 for p in pb.instance.projects] == [10_000_000, 9_000_010, 12_000_000]
    assert pb.instance.budget == Fraction(250_000_50, 100)
    assert [p.region for p in pb.instance.projects] == ["Norte", "Barreiro", "Norte"]
    assert pb.project_fields[str(on_ballot[0].id)]["name"] == on_ballot[0].title
    assert pb.meta["country"] == "Brazil"
    assert pb.meta["unit"] == "Belo Horizonte"
    assert pb.meta["vote_type"] == "approval"
    assert pb.meta["num_votes"] == "50"
    assert pb.meta["num_projects"] == "3"
    assert pb.meta["rule"] == "equalshares"
    assert pb.meta["language"] == "pt"
    # Voting from 1 Sep 08:00 to 16 Sep 00:00 in Belo Horizonte: the last day is 15 Sep.
    assert (pb.meta["date_begin"], pb.meta["date_end"]) == ("01.09.2026", "15.09.2026")
    exported = Counter(frozenset(b) for b in pb.profile.expanded())
    assert exported == Counter(frozenset(map(str, c)) for c in choices)
    # Nothing that could link a line to a voter or a receipt.
    for ballot in db.session.scalars(sa.select(Ballot)):
        assert ballot.receipt_hash not in text


def test_voters_are_numbered_in_shuffled_order(app_ctx):
    cycle, _, _, choices = make_cycle()
    out = io.StringIO()
    export_cycle(cycle.slug, out, rng=random.Random(5))
    lines = out.getvalue().split("VOTES\n", 1)[1].splitlines()[1:]
    voter_ids = [line.split(";")[0] for line in lines]
    assert voter_ids == [str(k) for k in range(1, 51)]  # sequential numbers
    written = [tuple(int(x) for x in line.split(";")[1].split(",")) for line in lines]
    stored = [tuple(c) for c in choices]  # in ballot id order
    assert sorted(written) == sorted(stored)  # a permutation of the stored ballots...
    assert written != stored  # ...but not in the order they were stored
    again = io.StringIO()
    export_cycle(cycle.slug, again, rng=random.Random(5))
    assert again.getvalue() == out.getvalue()  # the seed is only for tests; same seed, same file


def test_export_command_writes_a_file(app, runner, tmp_path):
    with app.app_context():
        cycle, _, _, choices = make_cycle(20)
        slug = cycle.slug
    path = tmp_path / "cycle.pb"
    result = runner.invoke(args=["pb", "export", slug, "-o", str(path)])
    assert result.exit_code == 0, result.output
    pb = read_pb(path)
    assert pb.profile.num_voters == 20
    assert Counter(frozenset(b) for b in pb.profile.expanded()) == Counter(
        frozenset(map(str, c)) for c in choices
    )
    result = runner.invoke(args=["pb", "outcome", str(path), "--rule", "greedy"])
    assert result.exit_code == 0 and result.output.strip()


def test_export_of_an_unknown_cycle_fails_cleanly(runner):
    result = runner.invoke(args=["pb", "export", "no-such-cycle"])
    assert result.exit_code == 1
    assert "No cycle with this identifier." in result.output
    assert "Traceback" not in result.output


def test_export_of_a_cycle_without_ballots(app_ctx):
    cycle = factories.cycle()
    factories.proposal(cycle, status="on_ballot")
    out = io.StringIO()
    assert export_cycle(cycle.slug, out) == 0
    pb = parse_pb(out.getvalue())
    assert pb.profile.num_voters == 0
    assert "date_begin" not in pb.meta  # no voting phase, no dates


# A title saved before submissions refused control characters (stored through the model).
HOSTILE_TITLE = "Praça\nVOTES\nvoter_id;vote"


def _check_both_readers(text: str, on_ballot, choices) -> None:
    """Our reader and pabutools' find the same projects and ballots, the title on one line."""
    ids = [str(p.id) for p in on_ballot]
    expected = Counter(frozenset(map(str, c)) for c in choices)
    pb = parse_pb(text)
    assert [p.id for p in pb.instance.projects] == ids
    assert Counter(frozenset(b) for b in pb.profile.expanded()) == expected
    assert pb.project_fields[ids[0]]["name"] == "Praça VOTES voter_id;vote"
    assert pb.meta["description"] == "Ciclo 2026 VOTES"
    instance, profile = parse_pabulib_from_string(text)
    assert sorted(p.name for p in instance) == sorted(ids)
    assert Counter(frozenset(p.name for p in ballot) for ballot in profile) == expected
    names = {p.name: instance.project_meta[p]["name"] for p in instance}
    assert names[ids[0]] == "Praça VOTES voter_id;vote"


def _hostile_cycle(n_ballots: int = 30):
    cycle, on_ballot, _rejected, choices = make_cycle(n_ballots)
    on_ballot[0].title = HOSTILE_TITLE
    on_ballot[1].region.name = "Barreiro\r\nPROJECTS"
    cycle.title = "Ciclo 2026\u2028VOTES"
    db.session.commit()
    return cycle, on_ballot, choices


def test_export_survives_titles_with_line_breaks(app_ctx):
    cycle, on_ballot, choices = _hostile_cycle()
    out = io.StringIO()
    export_cycle(cycle.slug, out)
    text = out.getvalue()
    _check_both_readers(text, on_ballot, choices)
    assert [line for line in text.splitlines() if line in ("META", "PROJECTS", "VOTES")] == [
        "META",
        "PROJECTS",
        "VOTES",
    ]
    assert parse_pb(text).instance.projects[1].region == "Barreiro  PROJECTS"


def test_export_command_survives_titles_with_line_breaks(app, runner, tmp_path):
    with app.app_context():
        cycle, on_ballot, choices = _hostile_cycle(20)
        slug = cycle.slug
        path = tmp_path / "cycle.pb"
        result = runner.invoke(args=["pb", "export", slug, "-o", str(path)])
        assert result.exit_code == 0, result.output
        _check_both_readers(path.read_text(encoding="utf-8"), on_ballot, choices)
        assert read_pb(path).profile.num_voters == 20
        instance, _profile = parse_pabulib(str(path))
        assert len(instance) == 3
    result = runner.invoke(args=["pb", "outcome", str(path), "--rule", "greedy"])
    assert result.exit_code == 0 and result.output.strip()


def _close(cycle, at: datetime, time_machine) -> None:
    cycle.state = "voting"
    db.session.commit()
    time_machine.move_to(at, tick=False)
    advance(cycle, "closed", actor=None)


def _dates(cycle) -> tuple[str, str]:
    out = io.StringIO()
    export_cycle(cycle.slug, out)
    meta = parse_pb(out.getvalue()).meta
    return meta["date_begin"], meta["date_end"]


def test_date_end_is_the_day_the_vote_was_closed(app_ctx, time_machine):
    cycle, _, _, _ = make_cycle(5)
    other = factories.cycle(state="voting")
    time_machine.move_to(datetime(2026, 9, 5, 15, tzinfo=UTC), tick=False)
    advance(other, "closed", actor=None)  # another cycle's close says nothing of this one
    cycle.state = "ballot_frozen"
    db.session.commit()
    advance(cycle, "voting", actor=None)  # nor does this cycle's opening
    assert closed_at(cycle) is None
    # Closed on 10 Sep at 12:00 in Belo Horizonte, days before the planned end (16 Sep 00:00).
    moment = datetime(2026, 9, 10, 15, tzinfo=UTC)
    time_machine.move_to(moment, tick=False)
    advance(cycle, "closed", actor=None)
    assert closed_at(cycle) == moment
    assert _dates(cycle) == ("01.09.2026", "10.09.2026")


def test_date_end_is_the_last_day_a_ballot_could_be_cast(app_ctx, time_machine):
    # Closed just after midnight in the city (03:00 UTC): nothing could be cast that day.
    at_midnight = factories.cycle(phases=[VOTING])
    _close(at_midnight, datetime(2026, 9, 10, 3, tzinfo=UTC), time_machine)
    assert _dates(at_midnight)[1] == "09.09.2026"
    # Closed days after the planned end: voting had already stopped at the end of the phase.
    late = factories.cycle(phases=[VOTING])
    _close(late, datetime(2026, 9, 20, 15, tzinfo=UTC), time_machine)
    assert _dates(late)[1] == "15.09.2026"
