"""Reading and writing Pabulib `.pb` files (pabulib.org/format), approval ballots.

Pure: standard library only. A file has three sections, each a line with its name (META,
PROJECTS, VOTES) then a `;`-separated header line and rows, CSV-quoted where needed, UTF-8 (a
byte-order mark and CRLF line ends are accepted). META rows are `key;value`; every key is kept,
known or not. PROJECTS rows need `project_id` and `cost`; other columns (name, votes, category,
district...) are kept as text, and `district`, when present, is the project's region. VOTES rows
need `vote`, the approved project ids separated by commas (empty: the voter approved nothing).

Numbers may use a decimal point or comma ("1250000", "12.5", "12,5") and are read exactly (int
or Fraction). Only `approval` and `choose-1` votes can be counted by our rules: other vote types
(cumulative, ordinal, scoring) raise `UnsupportedVoteType` naming the type.

Speed: the VOTES section is read by the C csv reader and tallied by `Counter` into distinct
ballots, so there is no Python code per voter unless a row is malformed.

Line breaks: pabutools' reader splits the text into lines (`str.splitlines()`, which also
breaks at vertical tab, form feed, the file/group/record separators, NEL and U+2028/U+2029)
before its csv reader sees them, so a quoted field holding a line break loses it there, and a
line "VOTES" inside it would be a section to a reader that finds sections by line. The writer
therefore puts every free-text field on one line (control characters become spaces) and quotes
what needs quoting (`;`, `"`). The reader still accepts quoted line breaks, as the csv module
reads them, so files written by other tools (or by versions before this rule) read as their
authors meant.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from operator import itemgetter
from pathlib import Path
from typing import TextIO

from opdigital.counting.instance import (
    Instance,
    Money,
    Profile,
    Project,
    ProjectId,
    approval_counts,
    profile_of,
)
from opdigital.text_safety import has_control_characters, one_line

APPROVAL_TYPES = ("approval", "choose-1")
SECTIONS = ("meta", "projects", "votes")
_SECTION_LINE = re.compile(r"^[ \t]*(META|PROJECTS|VOTES)[ \t]*;*[ \t]*\r?$", re.I | re.M)


class PabulibError(ValueError):
    """The file is not a readable Pabulib file; the message says where and why."""


class UnsupportedVoteType(PabulibError):
    """The file's votes are not approval ballots."""

    def __init__(self, vote_type: str) -> None:
        super().__init__(
            f"vote_type {vote_type!r} is not supported: only approval ballots "
            f"({', '.join(APPROVAL_TYPES)}) can be counted"
        )
        self.vote_type = vote_type


@dataclass
class PbFile:
    """A parsed file: META as read, the project rows' extra columns, the instance and ballots."""

    meta: dict[str, str]
    instance: Instance
    profile: Profile
    project_fields: dict[ProjectId, dict[str, str]] = field(default_factory=dict)

    @property
    def vote_type(self) -> str:
        return self.meta.get("vote_type", "")


def parse_number(text: str, what: str = "number") -> Money:
    """An exact non-negative number from Pabulib text ("12", "12.5", "12,5")."""
    clean = text.strip().replace(",", ".")
    try:
        value = int(clean) if clean.isdigit() else Fraction(clean)
    except (ValueError, ZeroDivisionError):
        raise PabulibError(f"{what}: {text!r} is not a number") from None
    if value < 0:
        raise PabulibError(f"{what}: {text!r} is negative")
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


# A line no Pabulib file holds, appended after a piece of text to see where a csv reader ends.
_PROBE = "opdigital-section-probe"


def _ends_inside_quotes(piece: str) -> bool:
    """True when a csv reader is still inside a quoted field at the end of `piece`."""
    if '"' not in piece:
        return False
    reader = csv.reader(io.StringIO(f"{piece}\n{_PROBE}\n"), delimiter=";")
    last = deque(reader, maxlen=1)  # read at C speed, keep the last row only
    return not last or last[0] != [_PROBE]


def _section_marks(text: str) -> list[re.Match]:
    """Lines naming a section, skipping those inside a quoted field (a name with line breaks)."""
    marks: list[re.Match] = []
    for mark in _SECTION_LINE.finditer(text):
        if marks and _ends_inside_quotes(text[marks[-1].end() : mark.start()]):
            continue
        marks.append(mark)
    return marks


def _split_sections(text: str) -> dict[str, tuple[int, str]]:
    """Section name -> (line number of its header line, text after the name line)."""
    marks = _section_marks(text)
    found: dict[str, tuple[int, str]] = {}
    for k, mark in enumerate(marks):
        name = mark.group(1).lower()
        if name in found:
            raise PabulibError(f"section {name.upper()} appears twice")
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        body = text[mark.end() : end]
        body = body[1:] if body.startswith("\n") else body
        found[name] = (text.count("\n", 0, mark.start()) + 2, body)
    for name in SECTIONS:
        if name not in found:
            raise PabulibError(f"section {name.upper()} is missing")
    return found


def _rows(section: str, body: str, first_line: int) -> tuple[list[str], list[list[str]]]:
    """Header and non-empty rows of a small section."""
    rows = [r for r in csv.reader(io.StringIO(body), delimiter=";") if any(c.strip() for c in r)]
    if not rows:
        raise PabulibError(f"section {section.upper()} has no header line (line {first_line})")
    return [h.strip().lower() for h in rows[0]], rows[1:]


def _column(header: list[str], name: str, section: str) -> int:
    try:
        return header.index(name)
    except ValueError:
        raise PabulibError(f"section {section.upper()} has no {name!r} column") from None


def _read_meta(body: str, line: int) -> dict[str, str]:
    _, rows = _rows("meta", body, line)
    return {r[0].strip(): (r[1].strip() if len(r) > 1 else "") for r in rows}


def _read_projects(body: str, line: int) -> tuple[list[Project], dict[ProjectId, dict[str, str]]]:
    header, rows = _rows("projects", body, line)
    id_col, cost_col = (
        _column(header, "project_id", "projects"),
        _column(header, "cost", "projects"),
    )
    projects: list[Project] = []
    fields: dict[ProjectId, dict[str, str]] = {}
    for row in rows:
        if len(row) <= max(id_col, cost_col):
            raise PabulibError(f"PROJECTS: row {row!r} has too few columns")
        pid = row[id_col].strip()
        if not pid:
            raise PabulibError(f"PROJECTS: row {row!r} has an empty project_id")
        if pid in fields:
            raise PabulibError(f"PROJECTS: project {pid!r} appears twice")
        extra = {
            h: row[i].strip()
            for i, h in enumerate(header)
            if i < len(row) and i not in (id_col, cost_col)
        }
        cost = parse_number(row[cost_col], f"PROJECTS: cost of project {pid!r}")
        region = extra.get("district") or None
        projects.append(Project(pid, cost, None if region in (None, "none") else region))
        fields[pid] = extra
    return projects, fields


def _distinct_votes(body: str, line: int) -> Counter:
    """Count of each distinct `vote` cell (C speed), checking rows only when one is malformed."""
    reader = csv.reader(io.StringIO(body), delimiter=";")
    header = [h.strip().lower() for h in next(reader, [])]
    if not any(header):
        raise PabulibError(f"section VOTES has no header line (line {line})")
    col = _column(header, "vote", "votes")
    try:
        return Counter(map(itemgetter(col), reader))
    except IndexError:
        pass  # an empty or short row somewhere: go again slowly, to skip or name it
    counts: Counter = Counter()
    for number, row in enumerate(csv.reader(io.StringIO(body), delimiter=";"), start=line):
        if number == line or not any(c.strip() for c in row):
            continue
        if len(row) <= col:
            raise PabulibError(f"VOTES line {number}: no vote column in {row!r}")
        counts[row[col]] += 1
    return counts


def _ballot(vote: str, known: set[str]) -> tuple[str, ...]:
    ids = [x.strip() for x in vote.split(",")]
    ids = list(dict.fromkeys(x for x in ids if x and x.lower() != "none"))
    for pid in ids:
        if pid not in known:
            raise PabulibError(f"VOTES: a vote names project {pid!r}, which is not in PROJECTS")
    return tuple(ids)


def parse_pb(text: str) -> PbFile:
    """Parse a whole `.pb` text; raises PabulibError (or UnsupportedVoteType)."""
    text = text.lstrip("\ufeff")
    sections = _split_sections(text)
    meta = _read_meta(sections["meta"][1], sections["meta"][0])
    projects, fields = _read_projects(sections["projects"][1], sections["projects"][0])
    vote_type = meta.get("vote_type", "approval").strip().lower()
    if vote_type not in APPROVAL_TYPES:
        raise UnsupportedVoteType(vote_type)
    if "budget" not in meta:
        raise PabulibError("META has no budget")
    budget = parse_number(meta["budget"], "META: budget")
    counts = _distinct_votes(sections["votes"][1], sections["votes"][0])
    known = set(fields)
    merged: Counter = Counter()
    for vote, weight in counts.items():
        merged[_ballot(vote, known)] += weight
    profile = Profile(tuple(merged), tuple(merged.values()))
    try:
        instance = Instance(tuple(projects), budget)
    except ValueError as e:
        raise PabulibError(str(e)) from e
    return PbFile(meta=meta, instance=instance, profile=profile, project_fields=fields)


def read_pb(path: str | Path) -> PbFile:
    """Read a `.pb` file from disk."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return parse_pb(f.read())
    except UnicodeDecodeError as e:
        raise PabulibError(f"{path}: not UTF-8 text ({e.reason})") from e


# --- writing -------------------------------------------------------------------------------


def format_number(value: Money) -> str:
    """Exact decimal text of an int or a Fraction with a finite decimal expansion."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        raise ValueError(f"{value} has no exact decimal form")
    places = max(twos, fives)
    scaled = value * 10**places
    digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")


def _check_id(value: object, what: str) -> None:
    text = str(value)
    if not text.strip() or any(ch in text for ch in ';,"') or has_control_characters(text):
        raise ValueError(f"{what} {value!r} cannot be written in a .pb file")


def _text(value: object) -> str:
    """A free-text value on one line: readers split the file into lines before anything else."""
    return one_line(str(value))


def write_pb(
    out: TextIO,
    instance: Instance,
    ballots: Profile | Sequence[Iterable[ProjectId]],
    meta: Mapping[str, object] | None = None,
    project_fields: Mapping[ProjectId, Mapping[str, str]] | None = None,
    voter_ids: Sequence[object] | None = None,
) -> None:
    """Write an approval `.pb` file; voters are numbered 1.. unless `voter_ids` is given.

    Ids are written as given, so one that would break the format is refused; free text (META
    keys and values, project columns, regions) is put on one line, control characters becoming
    spaces, so that every reader finds the same sections, projects and votes.
    """
    if isinstance(ballots, Profile):
        ballots = ballots.expanded()
    profile = profile_of(ballots)
    approvals = approval_counts(instance, profile)
    for p in instance.projects:
        _check_id(p.id, "project id")
    if voter_ids is not None and len(voter_ids) != len(ballots):
        raise ValueError("one voter id per ballot is needed")
    for vid in voter_ids or ():
        _check_id(vid, "voter id")
    head = dict(meta or {})
    head.update(
        num_projects=len(instance.projects),
        num_votes=len(ballots),
        budget=format_number(instance.budget),
        vote_type="approval",
    )
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    out.write("META\n")
    writer.writerow(["key", "value"])
    writer.writerows([_text(k), _text(v)] for k, v in head.items())
    project_fields = {
        pid: {_text(k): _text(v) for k, v in values.items()}
        for pid, values in (project_fields or {}).items()
    }
    extra: list[str] = []
    for pid in approvals:
        extra += [k for k in project_fields.get(pid, {}) if k not in extra and k != "votes"]
    if any(p.region is not None for p in instance.projects) and "district" not in extra:
        extra.append("district")
    out.write("PROJECTS\n")
    writer.writerow(["project_id", "cost", "votes", *extra])
    for p in instance.projects:
        values = dict(project_fields.get(p.id, {}))
        if p.region is not None:
            values.setdefault("district", _text(p.region))
        row = [p.id, format_number(p.cost), approvals[p.id]] + [values.get(k, "") for k in extra]
        writer.writerow(row)
    out.write("VOTES\nvoter_id;vote\n")
    ids = voter_ids if voter_ids is not None else range(1, len(ballots) + 1)
    # Ids hold no ';', ',', '"' or control character (checked above): plain joins are safe.
    out.writelines(
        f"{vid};{','.join(map(str, ballot))}\n" for vid, ballot in zip(ids, ballots, strict=True)
    )
