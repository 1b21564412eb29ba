"""Reading an electoral-roll CSV and writing it into `registry_entry`, fast.

Two million rows must load in under 20 s (issue 16): the rows are checked in one tight loop
(table look-ups, no per-row objects beyond a tuple), keyed with a prepared HMAC, and on
PostgreSQL sent in sorted parts by a second thread while the next part is read, so that Python
and the database each keep one of the two cores busy. Into an empty roll the parts are copied
straight into `registry_entry`; into a roll with entries they are merged from a temporary table.
It stays one transaction: a bad file or a failure half-way leaves nothing. Other databases
(SQLite for `make run`) get a plain SQLAlchemy path. Nothing here ever keeps or prints a raw
número.
"""

from __future__ import annotations

import csv
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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
    # Where the time went, for benchmarks: "reading" (checking and keying the rows),
    # "after_reading" (the database finishing once the last row was read), "total".
    seconds: dict[str, float] = field(default_factory=dict)

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
        self.seconds = 0.0  # spent reading, checking and keying (not waiting for the writer)
        self.finished_at = 0.0  # time.perf_counter() when the last row had been read

    def _birth(self, raw: str) -> str | tuple[str, str]:
        """ISO date of a YYYY-MM-DD cell, or (code, message) why not; cached per distinct text."""
        cached = self._dates.get(raw)
        if cached is None:
            cached = self._dates[raw] = _parse_birth(raw, self.today)
        return cached

    def batches(self) -> Iterator[list[Row]]:
        """Yield the good rows in lists of up to `_CHUNK`; raise UnusableFile if the file cannot
        be read as a roll (the caller must then drop what it wrote: one transaction)."""
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
                started = time.perf_counter()
                for batch in body(reader):
                    self.seconds += time.perf_counter() - started
                    yield batch
                    started = time.perf_counter()
                self.seconds += time.perf_counter() - started
                self.finished_at = time.perf_counter()
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

    def _titulo_rows(self, reader) -> Iterator[list[Row]]:
        # The hot loop of a two-million-row import: everything per row is a look-up in a table
        # made once (check digits, dates, region cells) or a C call (translate, HMAC).
        seen: dict[int, int] = {}  # int(número) -> first line: far smaller than the strings
        region_of: dict[str, int] = {}  # region cell as written -> id (a few spellings)
        regions, key, dates, today, reject = (
            self.regions,
            self.key,
            self._dates,
            self.today,
            self._reject,
        )
        first, second = titulo.remainder_tables()
        endings = titulo.ending_table()
        batch: list[Row] = []
        for raw, birth, region in self._records(reader):
            line = reader.line_num
            # Removing a separator leaves fewer than 12 characters: 12 need no translate.
            number = raw if len(raw) == 12 else raw.translate(_SEPARATORS)
            if len(number) != 12 or not number.isdigit() or not number.isascii():
                reject(line, "titulo_length", "the título must have 12 digits")
                continue
            rests = endings.get(number[8:])
            if rests is None or (first[number[:4]] + second[number[4:8]]) % 11 not in rests:
                state = number[8:10]
                if not "01" <= state <= "28":
                    reject(line, "titulo_state", f"unknown state code {state} in the título")
                else:
                    reject(line, "titulo_check_digits", "wrong check digits in the título")
                continue
            born = dates.get(birth)
            if born is None:
                born = dates[birth] = _parse_birth(birth, today)
            if type(born) is tuple:
                reject(line, *born)
                continue
            region_id = region_of.get(region)
            if region_id is None:
                region_id = regions.get(region.strip().lower())
                if region_id is None:
                    reject(line, "region", f"unknown region {_shown(region)}")
                    continue
                region_of[region] = region_id
            first_line = seen.setdefault(int(number), line)
            if first_line != line:
                reject(line, "duplicate", f"same título as line {first_line}")
                continue
            batch.append((key(number), born, region_id, None))
            if len(batch) == _CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    def _school_rows(self, reader) -> Iterator[list[Row]]:
        seen: dict[str, int] = {}
        schools, key, birth_of, reject = self.schools, self.key, self._birth, self._reject
        batch: list[Row] = []
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
            batch.append((key(number), born, school[1], school[0]))
            if len(batch) == _CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch


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


def write_postgres(batches: Iterable[list[Row]], scope: str) -> tuple[int, int, int]:
    """Load the rows into the roll in the session's transaction: (inserted, updated, unchanged).

    The rows go to PostgreSQL in parts (`_FIRST_PART` rows, then twice as many, up to `_PART`),
    each sorted by key so that the unique index is filled in order. A thread of its own streams
    each part (`_Loader`) while this one reads and keys the next: on two cores the database and
    Python work at once, and the database, which has the most to do, starts early.
    """
    raw = db.session.connection().connection.driver_connection
    loader = _Loader(raw, scope)
    tails: dict[tuple[int | None, int | None], str] = {}
    try:
        lines: list[str] = []
        part = _FIRST_PART
        for batch in batches:
            for key, born, region_id, school_id in batch:
                tail = tails.get((region_id, school_id))
                if tail is None:
                    tail = tails[region_id, school_id] = _tail(region_id, school_id, scope)
                lines.append(f"{key}\t{born}{tail}")
            if len(lines) >= part:
                loader.put_part(lines)
                lines, part = [], min(2 * part, _PART)
        if lines:
            loader.put_part(lines)
    except BaseException:
        loader.stop()
        raise
    return loader.finish()


def _tail(region_id: int | None, school_id: int | None, scope: str) -> str:
    """The end of a COPY line after the key and birth date (a few distinct ones per import)."""
    ids = (_NULL if value is None else str(value) for value in (region_id, school_id))
    return "\t" + "\t".join(ids) + f"\t{scope}\n"


_FIRST_PART = 1 << 17  # the database waits while the first part is read: keep it short
_PART = 1 << 19  # larger parts fill the index in fewer passes; smaller ones overlap more
_COLUMNS = "(voter_key, birth_date, region_id, school_id, scope)"  # a COPY line's columns

# A roll that already has entries: each part goes to a temporary table and is merged from
# there, in one join: rows whose values differ are updated, new ones inserted, the others left
# alone (not even locked). Duplicates within the file were refused by the reader, so the merge
# sees each key once.
_MERGE = (
    "MERGE INTO registry_entry AS e USING registry_import AS s"
    " ON e.scope = %(scope)s AND e.voter_key = s.voter_key"
    " WHEN MATCHED AND (e.birth_date, e.region_id, e.school_id)"
    " IS DISTINCT FROM (s.birth_date, s.region_id, s.school_id)"
    " THEN UPDATE SET birth_date = s.birth_date, region_id = s.region_id, school_id = s.school_id"
    " WHEN NOT MATCHED THEN INSERT (voter_key, birth_date, region_id, school_id, scope)"
    " VALUES (s.voter_key, s.birth_date, s.region_id, s.school_id, s.scope)"
)


class _Stopped(Exception):
    """The reader failed: the loader abandons its COPY (the transaction is rolled back)."""


_END_OF_PART = ("", 0)


class _Loader:
    """The database side of `write_postgres`, in a thread: COPY text comes through a queue.

    Into an empty roll (the usual first import) every row is new: each part is copied straight
    into `registry_entry`. Otherwise each part goes to a temporary table and is merged from
    there. The thread only waits on PostgreSQL, which releases the GIL.
    """

    def __init__(self, connection, scope: str) -> None:
        self._connection = connection
        self._scope = scope
        # Room for one part ahead: the reader prepares the next part while one is loaded.
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue(maxsize=_PART // _CHUNK + 2)
        self._error: BaseException | None = None
        self._stopping = self._ended = False
        self.rows = self.inserted = self.updated = 0
        self._thread = threading.Thread(target=self._run, name="roll-import", daemon=True)
        self._thread.start()

    def put_part(self, lines: list[str]) -> None:
        """Queue one part (sorts `lines` in place: each begins with its key)."""
        lines.sort()
        for start in range(0, len(lines), _CHUNK):
            if self._error is not None:
                raise self._error
            piece = lines[start : start + _CHUNK]
            self._queue.put(("".join(piece), len(piece)))
        self._queue.put(_END_OF_PART)

    def finish(self) -> tuple[int, int, int]:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.inserted, self.updated, self.rows - self.inserted - self.updated

    def stop(self) -> None:
        """Abandon the import: the thread drops what is queued and ends."""
        self._stopping = True
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            self._load()
        except BaseException as e:
            if not isinstance(e, _Stopped):
                self._error = e  # handed to the reader's thread, which raises it
            # Never leave the reader blocked on a full queue: drop items up to the end marker.
            while not self._ended:
                self._next()

    def _next(self) -> tuple[str, int] | None:
        item = self._queue.get()
        self._ended = item is None
        return item

    def _load(self) -> None:
        scope = {"scope": self._scope}
        with self._connection.cursor() as cur:
            # Two imports into one roll at once would race on the counts: one at a time.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"registry:{self._scope}",))
            fresh = cur.execute(
                "SELECT NOT EXISTS (SELECT FROM registry_entry WHERE scope = %(scope)s)", scope
            ).fetchone()[0]
            if fresh:
                target = f"registry_entry {_COLUMNS}"
            else:
                target = "registry_import"
                # The merge tells how many rows it wrote, not how many of them it inserted:
                # those are the roll's rows with an id above today's highest (ids only grow,
                # and nobody else writes this roll meanwhile: the lock above).
                scope["last_id"] = cur.execute(
                    "SELECT coalesce(max(id), 0) FROM registry_entry"
                ).fetchone()[0]
                cur.execute("SET LOCAL work_mem = '256MB'")
                cur.execute(
                    "CREATE TEMPORARY TABLE registry_import (voter_key text, birth_date date,"
                    " region_id integer, school_id integer, scope text) ON COMMIT DROP"
                )
            written = 0
            while (item := self._next()) is not None:
                with cur.copy(f"COPY {target} FROM STDIN") as copy:
                    while item is not _END_OF_PART:
                        if self._stopping:
                            raise _Stopped
                        text, rows = item
                        copy.write(text)
                        self.rows += rows
                        item = self._next()
                if not fresh:
                    cur.execute(_MERGE, scope)
                    written += cur.rowcount
                    cur.execute("TRUNCATE registry_import")
            if fresh:
                self.inserted = self.rows
            else:
                cur.execute("DROP TABLE registry_import")
                self.inserted = cur.execute(
                    "SELECT count(*) FROM registry_entry"
                    " WHERE id > %(last_id)s AND scope = %(scope)s",
                    scope,
                ).fetchone()[0]
                self.updated = written - self.inserted


def write_generic(batches: Iterable[list[Row]], scope: str) -> tuple[int, int, int]:
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
    for key, born_iso, region_id, school_id in (row for batch in batches for row in batch):
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
