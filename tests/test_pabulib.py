"""The Pabulib `.pb` reader and writer, on made-up and real files, and the `pb outcome` command."""

from __future__ import annotations

import io
import random
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from pabutools.election.pabulib import parse_pabulib_from_string

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


def test_the_real_pabulib_files_are_there():
    """The real-file cases here and in test_counting_pabutools.py are parametrised over these
    files: finding none must fail the run, not leave those cases silently uncollected."""
    assert len(REAL_FILES) >= 10, f"expected the Pabulib sample files in {DATA}"


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


@pytest.mark.parametrize("bad", ["a;b", "a,b", 'a"b', "a\nb", "a\rb", "a\x0bb", "a\u2028b", " "])
def test_writer_refuses_ids_that_would_break_the_format(bad):
    with pytest.raises(ValueError, match="project id .* cannot be written"):
        write_pb(io.StringIO(), Instance((Project(bad, 1),), 1), [])
    with pytest.raises(ValueError, match="voter id .* cannot be written"):
        write_pb(io.StringIO(), Instance((Project("1", 1),), 1), [("1",)], voter_ids=[bad])


# Every character that breaks a line for str.splitlines() (pabutools) or for csv, and others.
BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("brk", BREAKS)
def test_free_text_with_line_breaks_keeps_the_sections_for_every_reader(brk):
    instance = Instance((Project("1", 10, f"Norte{brk}VOTES"), Project("2", 20)), 30)
    ballots = [("1",), ("1", "2"), (), ("2",)]
    names = {"1": {"name": f"Praça{brk}VOTES{brk}voter_id;vote{brk}9;1,2"}, "2": {"name": "Ok"}}
    meta = {"description": f"Ciclo{brk}PROJECTS", f"note{brk}META": f"x{brk}\x00y"}
    out = io.StringIO()
    write_pb(out, instance, ballots, meta, names)
    text = out.getvalue()
    assert text.count("\n") == len(text.splitlines())  # no line break but the writer's own
    expected = Counter(map(frozenset, ballots))
    pb = parse_pb(text)
    assert [p.id for p in pb.instance.projects] == ["1", "2"]
    assert Counter(map(frozenset, pb.profile.expanded())) == expected
    one_line = brk.replace("\r\n", "  ") if brk == "\r\n" else " "
    assert pb.project_fields["1"]["name"] == one_line.join(
        ["Praça", "VOTES", "voter_id;vote", "9;1,2"]
    )
    assert pb.meta["description"] == f"Ciclo{one_line}PROJECTS"
    assert pb.meta[f"note{one_line}META"] == f"x{one_line} y"
    assert pb.instance.projects[0].region == f"Norte{one_line}VOTES"
    pab_instance, profile = parse_pabulib_from_string(text)
    assert sorted(p.name for p in pab_instance) == ["1", "2"]
    assert Counter(frozenset(p.name for p in b) for b in profile) == expected


def test_quoted_line_breaks_from_other_writers_are_read_as_the_csv_module_reads_them():
    # A file written by a plain csv writer (and by OP Digital before names were put on one
    # line): the name is quoted and holds lines that look like a section and a vote.
    name = 'Praça "central"\nVOTES\nvoter_id;vote\n9;1'
    quoted = '"' + name.replace('"', '""') + '"'
    text = SMALL.replace("1;50;3;Praça;norte", f"1;50;3;{quoted};norte")
    pb = parse_pb(text)
    assert pb.project_fields["1"]["name"] == name
    assert pb.profile.num_voters == 4
    assert [p.id for p in pb.instance.projects] == ["1", "2", "3"]
    # The same in a quoted META value, with CRLF line ends.
    crlf = SMALL.replace("description;Test", 'description;"Test\r\nPROJECTS\r\n1;2"')
    crlf = crlf.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    pb = parse_pb(crlf)
    assert pb.meta["description"] == "Test\r\nPROJECTS\r\n1;2"
    assert len(pb.instance.projects) == 3 and pb.profile.num_voters == 4


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
