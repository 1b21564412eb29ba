"""The Pabulib `.pb` reader and writer, on made-up and real files, and the `pb outcome` command."""

from __future__ import annotations

import io
import random
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from opdigital.counting.__main__ import main as counting_main
from opdigital.counting.instance import Instance, Project, approval_counts
from opdigital.counting.pabulib import (
    PabulibError,
    UnsupportedVoteType,
    format_number,
    parse_number,
    parse_pb,
    read_pb,
    write_pb,
)

DATA = Path("/work/shared/data/pabulib")
REAL_FILES = sorted(DATA.glob("*.pb"))
REGIONS = [None, "Barreiro", "Venda Nova"]

SMALL = """META
key;value
description;Test
num_projects;3
num_votes;4
budget;100
vote_type;approval
custom_key;kept
PROJECTS
project_id;cost;votes;name;district
1;50;3;Praça;norte
2;40,5;2;"Quadra; coberta";sul
3;30;0;Horta;
VOTES
voter_id;vote;age
a;1,2;30
b;1;
c;2, 1;41
d;;
"""


def test_reads_meta_projects_and_votes():
    pb = parse_pb(SMALL)
    assert pb.meta["custom_key"] == "kept"
    assert pb.vote_type == "approval"
    assert pb.instance.budget == 100
    assert pb.instance.projects == (
        Project("1", 50, "norte"),
        Project("2", Fraction(81, 2), "sul"),
        Project("3", 30, None),
    )
    assert pb.project_fields["2"]["name"] == "Quadra; coberta"
    assert pb.profile.num_voters == 4
    assert Counter(dict(zip(pb.profile.ballots, pb.profile.weights, strict=True))) == Counter(
        {("1", "2"): 1, ("1",): 1, ("2", "1"): 1, (): 1}
    )
    assert approval_counts(pb.instance, pb.profile) == {"1": 3, "2": 2, "3": 0}


def test_accepts_bom_crlf_and_blank_lines():
    text = "\ufeff" + SMALL.replace("\n", "\r\n").replace("VOTES\r\n", "\r\nVOTES\r\n")
    text = text.replace("d;;\r\n", "d;;\r\n\r\n")
    pb = parse_pb(text)
    assert pb.profile.num_voters == 4
    assert pb.instance.projects[0] == Project("1", 50, "norte")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("PROJECTS\n", "", "section PROJECTS is missing"),
        ("VOTES\nvoter_id;vote;age\n", "", "section VOTES is missing"),
        ("1;50;3", "1;fifty;3", "cost of project '1': 'fifty' is not a number"),
        ("1;50;3", "1;-50;3", "is negative"),
        ("budget;100", "budget;lots", "META: budget: 'lots' is not a number"),
        ("budget;100\n", "", "META has no budget"),
        ("a;1,2;30", "a;1,7;30", "project '7', which is not in PROJECTS"),
        ("3;30;0;Horta;", "1;30;0;Horta;", "project '1' appears twice"),
        ("voter_id;vote;age", "voter_id;ballot;age", "no 'vote' column"),
        ("project_id;cost", "project_id;price", "no 'cost' column"),
    ],
)
def test_malformed_files_get_clear_errors(old, new, message):
    assert old in SMALL
    with pytest.raises(PabulibError, match=message.replace("(", r"\(")):
        parse_pb(SMALL.replace(old, new, 1))


def test_a_short_vote_row_is_named():
    with pytest.raises(PabulibError, match="no vote column"):
        parse_pb(SMALL.replace("b;1;\n", "b\n"))


@pytest.mark.parametrize("vote_type", ["cumulative", "ordinal", "scoring"])
def test_other_vote_types_are_refused_by_name(vote_type):
    with pytest.raises(UnsupportedVoteType, match=f"'{vote_type}' is not supported") as info:
        parse_pb(SMALL.replace("vote_type;approval", f"vote_type;{vote_type}"))
    assert info.value.vote_type == vote_type


def test_choose_one_is_read_as_approval():
    assert parse_pb(SMALL.replace("vote_type;approval", "vote_type;choose-1")).profile


def test_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.pb"
    path.write_bytes(SMALL.replace("Praça", "Pra\xe7a").encode("latin-1"))
    with pytest.raises(PabulibError, match="not UTF-8"):
        read_pb(path)


def test_numbers():
    assert parse_number("1250000") == 1250000
    assert parse_number("12,5") == Fraction(25, 2)
    assert parse_number("7.0") == 7 and isinstance(parse_number("7.0"), int)
    assert format_number(Fraction(12345, 100)) == "123.45"
    assert format_number(Fraction(1, 8)) == "0.125"
    assert format_number(400000) == "400000"
    with pytest.raises(ValueError, match="no exact decimal"):
        format_number(Fraction(1, 3))


def random_instance(seed: int) -> tuple[Instance, list[tuple]]:
    r = random.Random(seed)
    m = r.randint(1, 12)
    projects = tuple(
        Project(
            f"P{i}", Fraction(r.randint(1, 10**6), r.choice([1, 2, 100])), r.choice([None, "x"])
        )
        for i in range(m)
    )
    ballots = [tuple(p.id for p in projects if r.random() < 0.3) for _ in range(r.randint(0, 40))]
    return Instance(projects, Fraction(r.randint(0, 10**7), 100)), ballots


@pytest.mark.parametrize("seed", range(25))
def test_round_trip_gives_the_same_instance_and_ballots(seed):
    instance, ballots = random_instance(seed)
    out = io.StringIO()
    write_pb(out, instance, ballots, {"description": "round; trip", "country": "Brazil"})
    pb = parse_pb(out.getvalue())
    assert pb.instance == instance
    assert pb.meta["description"] == "round; trip"
    assert pb.meta["num_votes"] == str(len(ballots))
    assert Counter(map(frozenset, pb.profile.expanded())) == Counter(map(frozenset, ballots))
    # Written votes counts agree with the ballots.
    counts = approval_counts(instance, pb.profile)
    assert {pid: int(f["votes"]) for pid, f in pb.project_fields.items()} == counts


def test_writer_refuses_ids_that_would_break_the_format():
    with pytest.raises(ValueError, match="cannot be written"):
        write_pb(io.StringIO(), Instance((Project("a;b", 1),), 1), [])


def test_every_real_file_is_an_approval_file_that_reads_consistently():
    assert len(REAL_FILES) >= 10
    for path in REAL_FILES:
        pb = read_pb(path)
        # The counting rules read approval ballots only: these files must all be approval ones.
        assert pb.vote_type == "approval", path.name
        assert len(pb.instance.projects) == int(pb.meta["num_projects"]), path.name
        assert pb.profile.num_voters == int(pb.meta["num_votes"]), path.name
        assert pb.instance.budget > 0
        # The files' own `votes` column is the approval count we compute (one Warsaw file
        # is off by one vote for one project in its own data).
        counts = approval_counts(pb.instance, pb.profile)
        written = {pid: int(f["votes"]) for pid, f in pb.project_fields.items() if f.get("votes")}
        assert len(written) == len(counts), path.name
        assert sum(abs(written[pid] - counts[pid]) for pid in written) <= 1, path.name


def test_a_real_file_round_trips():
    pb = read_pb(DATA / "Poland_Warszawa_2023_Wilanow.pb")
    out = io.StringIO()
    write_pb(out, pb.instance, pb.profile, pb.meta, pb.project_fields)
    again = parse_pb(out.getvalue())
    assert again.instance == pb.instance
    assert again.meta == pb.meta
    assert dict(zip(again.profile.ballots, again.profile.weights, strict=True)) == dict(
        zip(pb.profile.ballots, pb.profile.weights, strict=True)
    )


# --- the commands --------------------------------------------------------------------------


def test_pure_entry_point_prints_selected_ids(tmp_path, capsys):
    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    assert counting_main([str(path), "--rule", "greedy"]) == 0
    # 1 (3 votes, 50) then 2 (2 votes, 40.5): 90.5 <= 100; 3 (0 votes) no longer fits.
    assert capsys.readouterr().out == "1\n2\n"
    assert counting_main([str(path), "--rule", "mes"]) == 0
    assert capsys.readouterr().out.split() == ["1"]


def test_pure_entry_point_errors(tmp_path, capsys):
    path = tmp_path / "bad.pb"
    path.write_text(SMALL.replace("vote_type;approval", "vote_type;ordinal"), encoding="utf-8")
    assert counting_main([str(path), "--rule", "mes"]) == 1
    assert "'ordinal' is not supported" in capsys.readouterr().err
    assert counting_main([str(tmp_path / "missing.pb"), "--rule", "mes"]) == 1
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        counting_main([str(path), "--rule", "borda"])


def test_pb_outcome_command(runner, tmp_path):
    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    result = runner.invoke(args=["pb", "outcome", str(path), "--rule", "mes-completed"])
    assert result.exit_code == 0, result.output
    assert set(result.output.split()) == {"1", "2"}
    bad = tmp_path / "bad.pb"
    bad.write_text(SMALL.replace("PROJECTS\n", ""), encoding="utf-8")
    result = runner.invoke(args=["pb", "outcome", str(bad), "--rule", "greedy"])
    assert result.exit_code == 1
    assert "section PROJECTS is missing" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(args=["pb", "outcome", str(path), "--rule", "mes", "--increment", "x"])
    assert result.exit_code == 2
