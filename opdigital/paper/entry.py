"""Batches of filled sheets, entered twice by different staff, compared and resolved.

A batch is the bundle of sheets a point puts in one envelope at the close, with the number of
sheets counted by hand. Two different staff members (the point's poll workers, or
coordinators) each type the whole batch, without seeing the other's typing. When the second
entry comes in, the two are compared serial by serial: what both read alike is agreed at once
(`PaperSheet`); every difference (a serial in one entry only, other works, spoiled in one and
not the other) waits for a staff member to read the physical sheet and settle it. The batch
goes `entering` → `resolving` (only when there are differences) → `ready`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opdigital.audit import services as audit
from opdigital.cycles.models import Cycle
from opdigital.errors import Conflict, NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.paper.models import (
    BatchStatus,
    PaperBatch,
    PaperEntry,
    PaperEntrySheet,
    PaperSheet,
    PaperSheetRun,
)
from opdigital.paper.readings import Reading, read_marking
from opdigital.paper.services import (
    COUNTING_STATES,
    POINT_LOCK,
    advisory_lock,
    ensure_may_act,
    ensure_state,
)
from opdigital.voting.services import frozen_ballot

MAX_SHEETS_PER_BATCH = 500


# --- batches ---------------------------------------------------------------------------------


def create_batch(cycle: Cycle, voting_point_id: int, sheet_count: int, actor: Any) -> PaperBatch:
    """A new batch of the point, numbered next (audited as "paper.batch")."""
    ensure_may_act(actor, cycle.id, voting_point_id)
    ensure_state(
        cycle,
        COUNTING_STATES,
        _l("Paper batches are made during the vote and after it closes, until the tally."),
    )
    if not 1 <= sheet_count <= MAX_SHEETS_PER_BATCH:
        raise ValidationFailed(
            _l("A batch holds from 1 to %(max)d sheets.", max=MAX_SHEETS_PER_BATCH),
            code="sheet_count",
        )
    try:
        advisory_lock(POINT_LOCK, voting_point_id)
        last = db.session.scalar(
            sa.select(sa.func.max(PaperBatch.number)).where(
                PaperBatch.cycle_id == cycle.id, PaperBatch.voting_point_id == voting_point_id
            )
        )
        batch = PaperBatch(
            cycle_id=cycle.id,
            voting_point_id=voting_point_id,
            number=(last or 0) + 1,
            sheet_count=sheet_count,
            status=BatchStatus.ENTERING,
            created_by_id=getattr(actor, "id", None),
        )
        db.session.add(batch)
        db.session.flush()
        audit.record(
            actor,
            "paper.batch",
            batch,
            after={
                "cycle_id": cycle.id,
                "voting_point_id": voting_point_id,
                "number": batch.number,
                "sheet_count": sheet_count,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return batch


def batch_of(cycle: Cycle, batch_id: int) -> PaperBatch:
    batch = db.session.get(PaperBatch, batch_id)
    if batch is None or batch.cycle_id != cycle.id:
        raise NotFound(_l("No such paper batch in this cycle."))
    return batch


def batches_of_point(cycle_id: int, voting_point_id: int) -> list[PaperBatch]:
    return list(
        db.session.scalars(
            sa.select(PaperBatch)
            .where(PaperBatch.cycle_id == cycle_id, PaperBatch.voting_point_id == voting_point_id)
            .order_by(PaperBatch.number)
        )
    )


def entries_of(batch: PaperBatch) -> list[PaperEntry]:
    return list(
        db.session.scalars(
            sa.select(PaperEntry).where(PaperEntry.batch_id == batch.id).order_by(PaperEntry.round)
        )
    )


def locked_batch(batch: PaperBatch) -> PaperBatch:
    return db.session.scalar(
        sa.select(PaperBatch)
        .where(PaperBatch.id == batch.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# --- one entry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetInput:
    """One sheet as typed: its serial (None: not typed or not a number), the works ticked (as
    sent) and whether it was marked spoiled."""

    row: int
    serial: int | None
    marked: tuple[str, ...] = ()
    spoiled: bool = False


class EntryRefused(ValidationFailed):
    """An entry that cannot be kept, with each reason (by sheet row) for the form."""

    code = "entry_refused"

    def __init__(self, problems: Sequence[tuple[int | None, Any]]):
        super().__init__(_l("This entry cannot be saved: correct the sheets listed."))
        self.problems = list(problems)  # (row or None, message)


@dataclass
class EntryOutcome:
    round: int
    status: str
    read_as_spoiled: list[int] = field(default_factory=list)  # serials refused by the rule
    differences: int = 0


def issued_serials(cycle_id: int, voting_point_id: int) -> dict[int, int | None]:
    """Every serial printed for the point in the cycle, with the region its run listed."""
    issued: dict[int, int | None] = {}
    runs = db.session.execute(
        sa.select(PaperSheetRun.first_serial, PaperSheetRun.count, PaperSheetRun.region_id).where(
            PaperSheetRun.cycle_id == cycle_id, PaperSheetRun.voting_point_id == voting_point_id
        )
    )
    for first, count, region_id in runs:
        for serial in range(first, first + count):
            issued[serial] = region_id
    return issued


def _check_sheets(batch: PaperBatch, sheets: Sequence[SheetInput]) -> dict[int, int | None]:
    """Refuse an entry whose sheets do not fit the batch; the issued serials otherwise."""
    problems: list[tuple[int | None, Any]] = []
    if len(sheets) != batch.sheet_count:
        problems.append(
            (
                None,
                _l(
                    "The batch holds %(count)d sheets; this entry has %(typed)d.",
                    count=batch.sheet_count,
                    typed=len(sheets),
                ),
            )
        )
    issued = issued_serials(batch.cycle_id, batch.voting_point_id)
    typed = [s.serial for s in sheets if s.serial is not None]
    elsewhere = set(
        db.session.scalars(
            sa.select(PaperSheet.serial).where(
                PaperSheet.cycle_id == batch.cycle_id,
                PaperSheet.batch_id != batch.id,
                PaperSheet.serial.in_(typed),
            )
        )
    )
    seen: set[int] = set()
    for sheet in sheets:
        if sheet.serial is None:
            problems.append((sheet.row, _l("Type the sheet's serial number.")))
        elif sheet.serial in seen:
            problems.append((sheet.row, _l("This serial number is entered twice in the batch.")))
        elif sheet.serial not in issued:
            problems.append(
                (sheet.row, _l("This serial number was not printed for this voting point."))
            )
        elif sheet.serial in elsewhere:
            problems.append((sheet.row, _l("This sheet is already counted in another batch.")))
        if sheet.serial is not None:
            seen.add(sheet.serial)
    if problems:
        raise EntryRefused(problems)
    return issued


def submit_entry(batch: PaperBatch, sheets: Sequence[SheetInput], actor: Any) -> EntryOutcome:
    """Keep one staff member's entry of the whole batch; after the second, compare the two.

    Conflict (409) when this person already entered the batch or it is not waiting for an
    entry; EntryRefused (422) when the sheets do not fit it.
    """
    cycle = db.session.get(Cycle, batch.cycle_id)
    ensure_may_act(actor, batch.cycle_id, batch.voting_point_id)
    ensure_state(
        cycle,
        COUNTING_STATES,
        _l("Paper batches are entered during the vote and after it closes, until the tally."),
    )
    try:
        batch = locked_batch(batch)
        if batch.status != BatchStatus.ENTERING:
            raise Conflict(_l("This batch has been entered twice already."), code="batch_entered")
        earlier = entries_of(batch)
        if any(e.entered_by_id == actor.id for e in earlier):
            raise Conflict(
                _l(
                    "You have already entered this batch: the second entry must be made by "
                    "another staff member."
                ),
                code="same_person",
            )
        issued = _check_sheets(batch, sheets)
        ballot = frozen_ballot(cycle)
        entry = PaperEntry(batch_id=batch.id, round=len(earlier) + 1, entered_by_id=actor.id)
        db.session.add(entry)
        db.session.flush()
        outcome = EntryOutcome(round=entry.round, status=batch.status)
        for sheet in sheets:
            reading, refused = read_marking(
                ballot, sheet.marked, sheet.spoiled, region_id=issued.get(sheet.serial)
            )
            if refused:
                outcome.read_as_spoiled.append(sheet.serial)
            db.session.add(
                PaperEntrySheet(
                    entry_id=entry.id,
                    serial=sheet.serial,
                    choices=list(reading.choices),
                    spoiled=reading.spoiled,
                )
            )
        db.session.flush()
        if entry.round == 2:
            outcome.differences = _compare(batch)
        outcome.status = batch.status
        audit.record(
            actor,
            "paper.entry",
            batch,
            after={
                "batch_id": batch.id,
                "round": entry.round,
                "sheets": len(sheets),
                "status": batch.status,
                "differences": outcome.differences,
            },
        )
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise Conflict(
            _l("This batch changed meanwhile (another entry, or a sheet counted elsewhere)."),
            code="batch_changed",
        ) from e
    except BaseException:
        db.session.rollback()
        raise
    return outcome


# --- comparing and resolving -----------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A serial the two entries read differently (None: that entry has no such sheet)."""

    serial: int
    first: Reading | None
    second: Reading | None


def readings_of(entry: PaperEntry) -> dict[int, Reading]:
    rows = db.session.scalars(
        sa.select(PaperEntrySheet).where(PaperEntrySheet.entry_id == entry.id)
    )
    return {row.serial: Reading(tuple(sorted(row.choices)), bool(row.spoiled)) for row in rows}


def differences(batch: PaperBatch) -> list[Difference]:
    """The serials of the batch's two entries that differ and are not settled yet."""
    entries = entries_of(batch)
    if len(entries) < 2:
        return []
    first, second = readings_of(entries[0]), readings_of(entries[1])
    settled = set(
        db.session.scalars(sa.select(PaperSheet.serial).where(PaperSheet.batch_id == batch.id))
    )
    found = []
    for serial in sorted(set(first) | set(second)):
        a, b = first.get(serial), second.get(serial)
        if a != b and serial not in settled:
            found.append(Difference(serial, a, b))
    return found


def _compare(batch: PaperBatch) -> int:
    """Write the sheets both entries agree on; the batch is ready or has differences left."""
    entries = entries_of(batch)
    first, second = readings_of(entries[0]), readings_of(entries[1])
    for serial, reading in first.items():
        if second.get(serial) == reading:
            db.session.add(_agreed(batch, serial, reading, resolved=False))
    db.session.flush()
    left = len(differences(batch))
    batch.status = BatchStatus.RESOLVING if left else BatchStatus.READY
    return left


def _agreed(batch: PaperBatch, serial: int, reading: Reading, *, resolved: bool) -> PaperSheet:
    return PaperSheet(
        cycle_id=batch.cycle_id,
        serial=serial,
        batch_id=batch.id,
        choices=list(reading.choices),
        spoiled=reading.spoiled,
        resolved=resolved,
    )


# How a difference is settled: entry 1's reading, entry 2's, or the sheet as typed now.
FIRST, SECOND, TYPED = "first", "second", "typed"


@dataclass(frozen=True)
class Resolution:
    serial: int
    choice: str  # FIRST, SECOND or TYPED
    marked: tuple[str, ...] = ()
    spoiled: bool = False
    # TYPED only: False when the serial is not in the batch at all (a mistyped serial).
    present: bool = True


def agreed_count(batch: PaperBatch) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(PaperSheet).where(PaperSheet.batch_id == batch.id)
    )


def resolve(batch: PaperBatch, resolutions: Sequence[Resolution], actor: Any) -> None:
    """Settle every difference of the batch against the physical sheets, at once: each one
    audited ("paper.resolve") with both entries' readings and the one kept. The batch is then
    ready; refused (422) unless every difference is settled and the sheets add up to the
    batch's count."""
    cycle = db.session.get(Cycle, batch.cycle_id)
    ensure_may_act(actor, batch.cycle_id, batch.voting_point_id)
    ensure_state(
        cycle,
        COUNTING_STATES,
        _l("Paper batches are resolved during the vote and after it closes, until the tally."),
    )
    try:
        batch = locked_batch(batch)
        if batch.status != BatchStatus.RESOLVING:
            raise Conflict(_l("This batch has no differences to resolve."), code="not_resolving")
        found = {d.serial: d for d in differences(batch)}
        given = {r.serial: r for r in resolutions if r.serial in found}
        if set(given) != set(found):
            raise ValidationFailed(
                _l("Settle every difference listed: choose a reading for each sheet."),
                code="unresolved",
            )
        issued = issued_serials(batch.cycle_id, batch.voting_point_id)
        ballot = frozen_ballot(cycle)
        kept: dict[int, Reading | None] = {}
        for serial, difference in found.items():
            resolution = given[serial]
            if resolution.choice == FIRST:
                kept[serial] = difference.first
            elif resolution.choice == SECOND:
                kept[serial] = difference.second
            elif resolution.choice == TYPED and resolution.present:
                kept[serial] = read_marking(
                    ballot, resolution.marked, resolution.spoiled, region_id=issued.get(serial)
                )[0]
            elif resolution.choice == TYPED:
                kept[serial] = None
            else:
                raise ValidationFailed(_l("Choose a reading for each sheet."), code="unresolved")
        total = agreed_count(batch) + sum(1 for r in kept.values() if r is not None)
        if total != batch.sheet_count:
            raise ValidationFailed(
                _l(
                    "With these choices the batch would hold %(total)d sheets, but it holds "
                    "%(count)d: check which serials are really in the envelope.",
                    total=total,
                    count=batch.sheet_count,
                ),
                code="count_mismatch",
            )
        for serial, reading in kept.items():
            difference = found[serial]
            if reading is not None:
                db.session.add(_agreed(batch, serial, reading, resolved=True))
            audit.record(
                actor,
                "paper.resolve",
                batch,
                before={
                    "batch_id": batch.id,
                    "serial": serial,
                    "entry_1": difference.first.as_dict() if difference.first else None,
                    "entry_2": difference.second.as_dict() if difference.second else None,
                },
                after={
                    "serial": serial,
                    "chosen": given[serial].choice,
                    "reading": reading.as_dict() if reading else None,
                },
            )
        batch.status = BatchStatus.READY
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise Conflict(
            _l("One of these sheets is already counted in another batch."), code="batch_changed"
        ) from e
    except BaseException:
        db.session.rollback()
        raise
