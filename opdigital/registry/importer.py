"""Reading an electoral-roll CSV and writing it into `registry_entry`, fast.

Two million rows must load in under a minute (issue 3): the rows are checked in one tight loop
(no per-row objects beyond a tuple), keyed with a prepared HMAC, and on PostgreSQL streamed by
COPY into a temporary table, then merged with one INSERT ... ON CONFLICT. Other databases (SQLite
for `make run`) get a plain SQLAlchemy path. Nothing here ever keeps or prints a raw número.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from opdigital.registry import titulo
from opdigital.registry.keys import keyer, normalise_enrolment
from opdigital.registry.models import RegistryEntry

TITULO_HEADER = ("titulo", "birth_date", "region")
SCHOOL_HEADER = ("school", "enrolment", "birth_date")
# Nobody on a living roll was born before this; such a date is a typing or export error.
EARLIEST_BIRTH = date(1900, 1, 1)
_SEPARATORS = str.maketrans("", "", " .-/\t")
_CHUNK = 8192  # rows per COPY write and per progress tick
_NULL = "\\N"  # NULL in COPY's text format

Row = tuple[str, str, int | None, int | None]  # voter_key, birth date ISO, region_id, school_id


class UnusableFile(ValidationFailed):
    """The file cannot be imported at all (missing, not UTF-8, wrong header, unknown cycle)."""

    code = "unusable_file"


@dataclass(frozen=True)
class Rejection:
    """One bad row: its line in the file and why (never the number itself)."""

    line: int
    code: str
    message: str


@dataclass
class ImportReport:
    """What an import did, in counts; `rejected` lists the bad rows."""

    scope: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def counts(self) -> dict[str, int | str]:
        """The figures for the audit log and the summary line."""
        return {
            "scope": self.scope,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
        }


def count_lines(path: Path) -> int:
    """Lines in the file (for the progress bar's length), read in binary: cheap."""
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


class RollReader:
    """Checks each row of an open roll and yields the good ones as `Row` tuples.

    `regions` maps region slug -> id; `schools` maps school slug -> (school id, region id).
    Bad rows are appended to `rejected`. `progress(n)` is told every few thousand lines.
    """

    def __init__(
        self,
        path: Path,
        *,
        school_roll: bool,
        pepper: str,
        today: date,
        regions: dict[str, int],
        schools: dict[str, tuple[int, int]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.path = path
        self.school_roll = school_roll
        self.key = keyer(pepper)
        self.today = today
        self.regions = regions
        self.schools = schools
        self.progress = progress or (lambda n: None)
        self.rejected: list[Rejection] = []
        self.rows = 0
        self._dates: dict[str, str | tuple[str, str]] = {}

    def _birth(self, raw: str) -> str | tuple[str, str]:
        """ISO date of a YYYY-MM-DD cell, or (code, message) why not; cached per distinct text."""
        cached = self._dates.get(raw)
        if cached is None:
            cached = self._dates[raw] = _parse_birth(raw, self.today)
        return cached

    def rows_iter(self) -> Iterator[Row]:
        """Yield the good rows; raise UnusableFile if the file cannot be read as a roll."""
        try:
            f = self.path.open(encoding="utf-8-sig", newline="")
        except OSError as e:
            raise UnusableFile(_l("Cannot open the file: %(e)s", e=e.strerror)) from e
        with f:
            try:
                reader = csv.reader(f, strict=True)
                header = next(reader, None)
                expected = SCHOOL_HEADER if self.school_roll else TITULO_HEADER
                found = tuple(cell.strip().lower() for cell in header or ())
                if found != expected:
                    raise UnusableFile(
                        _l(
                            "The first line must be the header %(expected)s.",
                            expected=",".join(expected),
                        )
                    )
                body = self._school_rows if self.school_roll else self._titulo_rows
                yield from body(reader)
            except UnicodeDecodeError as e:
                raise UnusableFile(_l("The file is not UTF-8 text.")) from e
            except csv.Error as e:
                raise UnusableFile(
                    _l("The file is not valid CSV (line %(line)s).", line=reader.line_num)
                ) from e

    def _reject(self, line: int, code: str, message: str) -> None:
        self.rejected.append(Rejection(line, code, message))

    def _records(self, reader) -> Iterator[list[str]]:
        """The rows of three cells, for the checks of one kind of roll (`reader.line_num` is the
        row's line); counts the rows into `rows`, tells `progress`, rejects other rows."""
        reject, tick, rows = self._reject, 0, 0
        for cells in reader:
            tick += 1
            if tick == _CHUNK:
                self.progress(tick)
                tick = 0
            if len(cells) != 3:
                if not "".join(cells).strip():
                    continue  # blank lines are harmless
                rows += 1
                reject(reader.line_num, "fields", f"expected 3 fields, found {len(cells)}")
                continue
            rows += 1
            yield cells
        self.progress(tick)
        self.rows = rows

    def _titulo_rows(self, reader) -> Iterator[Row]:
        seen: dict[int, int] = {}  # int(número) -> first line: far smaller than the strings
        regions, key, birth_of, reject = self.regions, self.key, self._birth, self._reject
        check_digits = titulo.check_digits
        for raw, birth, region in self._records(reader):
            line = reader.line_num
            number = raw.translate(_SEPARATORS)
            if len(number) != 12 or not number.isdigit() or not number.isascii():
                reject(line, "titulo_length", "the título must have 12 digits")
                continue
            state = number[8:10]
            if not "01" <= state <= "28":
                reject(line, "titulo_state", f"unknown state code {state} in the título")
                continue
            if number[10:] not in check_digits(number[:8], state):
                reject(line, "titulo_check_digits", "wrong check digits in the título")
                continue
            born = birth_of(birth)
            if type(born) is tuple:
                reject(line, *born)
                continue
            region_id = regions.get(region.strip().lower())
            if region_id is None:
                reject(line, "region", f"unknown region {_shown(region)}")
                continue
            as_int = int(number)
            first = seen.setdefault(as_int, line)
            if first != line:
                reject(line, "duplicate", f"same título as line {first}")
                continue
            yield key(number), born, region_id, None

    def _school_rows(self, reader) -> Iterator[Row]:
        seen: dict[str, int] = {}
        schools, key, birth_of, reject = self.schools, self.key, self._birth, self._reject
        for cells in self._records(reader):
            line = reader.line_num
            slug, enrolment, birth = cells[0].strip().lower(), cells[1], cells[2]
            school = schools.get(slug)
            if school is None:
                reject(line, "school", f"unknown school {_shown(slug)}")
                continue
            try:
                number = f"{slug}:{normalise_enrolment(enrolment)}"
            except ValueError:
                reject(line, "enrolment", "the enrolment number must have 1 to 20 digits")
                continue
            born = birth_of(birth)
            if type(born) is tuple:
                reject(line, *born)
                continue
            first = seen.setdefault(number, line)
            if first != line:
                reject(line, "duplicate", f"same school and enrolment as line {first}")
                continue
            yield key(number), born, school[1], school[0]


def _parse_birth(raw: str, today: date) -> str | tuple[str, str]:
    text = raw.strip()
    # date.fromisoformat alone would also take "20100101" or "2010-W01-1": insist on the form.
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return ("birth_date", "the birth date must be YYYY-MM-DD")
    try:
        born = date.fromisoformat(text)
    except ValueError:
        return ("birth_date", "the birth date must be YYYY-MM-DD")
    if born > today:
        return ("birth_date_future", "the birth date is in the future")
    if born < EARLIEST_BIRTH:
        return ("birth_date_old", "the birth date is before 1900")
    return text


def _shown(text: str) -> str:
    """A cell quoted for a message, cut short (a region cell holds no personal data)."""
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:40] + "...")


def write_postgres(rows: Iterator[Row], scope: str) -> tuple[int, int, int]:
    """COPY the rows into a temporary table and merge them: (inserted, updated, unchanged)."""
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    with raw.cursor() as cur:
        # Two imports into one roll at once would race on the counts: one at a time per scope.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"registry:{scope}",))
        cur.execute(
            "CREATE TEMPORARY TABLE registry_import (voter_key text, birth_date date,"
            " region_id integer, school_id integer) ON COMMIT DROP"
        )
        with cur.copy("COPY registry_import FROM STDIN") as copy:
            buffer: list[str] = []
            for key, born, region_id, school_id in rows:
                buffer.append(
                    f"{key}\t{born}\t{_NULL if region_id is None else region_id}"
                    f"\t{_NULL if school_id is None else school_id}\n"
                )
                if len(buffer) == _CHUNK:
                    copy.write("".join(buffer))
                    buffer.clear()
            if buffer:
                copy.write("".join(buffer))
        good = cur.execute("SELECT count(*) FROM registry_import").fetchone()[0]
        before = _scope_count_raw(cur, scope)
        cur.execute("SET LOCAL work_mem = '256MB'")
        # Sorted by key, the unique index is filled in order (much faster than at random);
        # a row whose values did not change is not rewritten, hence not counted as updated.
        cur.execute(
            "INSERT INTO registry_entry (scope, voter_key, birth_date, region_id, school_id)"
            " SELECT %s, voter_key, birth_date, region_id, school_id FROM registry_import"
            " ORDER BY voter_key"
            " ON CONFLICT (scope, voter_key) DO UPDATE SET birth_date = EXCLUDED.birth_date,"
            " region_id = EXCLUDED.region_id, school_id = EXCLUDED.school_id"
            " WHERE (registry_entry.birth_date, registry_entry.region_id,"
            " registry_entry.school_id) IS DISTINCT FROM"
            " (EXCLUDED.birth_date, EXCLUDED.region_id, EXCLUDED.school_id)",
            (scope,),
        )
        changed = cur.rowcount
        inserted = _scope_count_raw(cur, scope) - before
        cur.execute("DROP TABLE registry_import")
    updated = changed - inserted
    return inserted, updated, good - changed


def _scope_count_raw(cur, scope: str) -> int:
    return cur.execute("SELECT count(*) FROM registry_entry WHERE scope = %s", (scope,)).fetchone()[
        0
    ]


def write_generic(rows: Iterator[Row], scope: str) -> tuple[int, int, int]:
    """The portable path (SQLite demo, small rolls): compare with what is stored, then write."""
    table = RegistryEntry.__table__
    stored = {
        key: (entry_id, born, region_id, school_id)
        for entry_id, key, born, region_id, school_id in db.session.execute(
            sa.select(
                table.c.id,
                table.c.voter_key,
                table.c.birth_date,
                table.c.region_id,
                table.c.school_id,
            ).where(table.c.scope == scope)
        )
    }
    dates: dict[str, date] = {}
    inserts, updates, unchanged = [], [], 0
    for key, born_iso, region_id, school_id in rows:
        born = dates.get(born_iso) or dates.setdefault(born_iso, date.fromisoformat(born_iso))
        old = stored.get(key)
        if old is None:
            inserts.append(
                {
                    "scope": scope,
                    "voter_key": key,
                    "birth_date": born,
                    "region_id": region_id,
                    "school_id": school_id,
                }
            )
        elif old[1:] == (born, region_id, school_id):
            unchanged += 1
        else:
            updates.append({"_id": old[0], "_b": born, "_r": region_id, "_s": school_id})
    for start in range(0, len(inserts), 5000):
        db.session.execute(sa.insert(table), inserts[start : start + 5000])
    if updates:
        db.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("_id"))
            .values(
                birth_date=sa.bindparam("_b"),
                region_id=sa.bindparam("_r"),
                school_id=sa.bindparam("_s"),
            ),
            updates,
        )
    return len(inserts), len(updates), unchanged
