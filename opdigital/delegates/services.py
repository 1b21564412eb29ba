"""The delegate roll and delegate codes: every change in one transaction with its audit entry.

A cycle whose roll is its delegates (voting setting "delegates") identifies voters by a one-time
code. Issuing a code writes the delegate's entry in the cycle's delegate roll
(`registry.models.delegate_scope`), whose voter key is the keyed hash of the code: the whole
cast path (one vote per voter key, the board, the tally) then works unchanged, and a code votes
once because participation's primary key is (cycle, voter key). The code itself is returned
once, for the printed slip, and stored nowhere (docs/domain.md, "Delegates").
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.cycles.models import Cycle, CycleKind, Event
from opdigital.cycles.states import CycleState
from opdigital.delegates import codes
from opdigital.delegates.models import VOTING_ROLES, Delegate, DelegateRole, Seat
from opdigital.errors import Conflict, NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.regions.models import Region, School
from opdigital.registry.credentials import DELEGATE_BIRTH_DATE
from opdigital.registry.keys import voter_key
from opdigital.registry.models import RegistryEntry, delegate_scope, is_delegate_scope
from opdigital.text_safety import has_control_characters
from opdigital.voting.models import Participation

MAX_NAME = 160
MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 5000
# Codes are of no use once the vote is over.
ISSUING_STATES = (
    CycleState.DRAFT,
    CycleState.OPEN_FOR_PROPOSALS,
    CycleState.UNDER_REVIEW,
    CycleState.BALLOT_FROZEN,
    CycleState.VOTING,
)
_AUDITED = ("name", "role", "region_id", "school_id", "seat", "event_id")


@dataclass(frozen=True)
class DelegateData:
    """What a coordinator records of a delegate (minimal data: LGPD)."""

    name: str
    role: str = DelegateRole.DELEGATE.value
    region_id: int | None = None
    school_id: int | None = None
    seat: str | None = None
    event_id: int | None = None


@dataclass(frozen=True)
class IssuedCode:
    """A code to print on a delegate's slip: shown once, never stored."""

    delegate: Delegate
    code: str

    @property
    def printed(self) -> str:
        return codes.pretty(self.code)


def is_school_cycle(cycle: Cycle) -> bool:
    return cycle.kind == CycleKind.OPCA.value


def takes_roll_from_delegates(cycle: Cycle) -> bool:
    return is_delegate_scope(cycle.registry_scope)


# --- reading ----------------------------------------------------------------------------------


def get_delegate(cycle: Cycle, delegate_id: int) -> Delegate:
    delegate = db.session.get(Delegate, delegate_id)
    if delegate is None or delegate.cycle_id != cycle.id:
        raise NotFound(_l("There is no such delegate in this cycle."), code="delegate_not_found")
    return delegate


def roll(cycle: Cycle) -> list[Delegate]:
    """The cycle's roll by region, school, role and name."""
    role_order = sa.case(
        {role.value: index for index, role in enumerate(DelegateRole)}, value=Delegate.role
    )
    query = (
        sa.select(Delegate)
        .join(Region, Region.id == Delegate.region_id)
        .outerjoin(School, School.id == Delegate.school_id)
        .where(Delegate.cycle_id == cycle.id)
        .order_by(Region.name, School.name, role_order, Delegate.seat, Delegate.name, Delegate.id)
    )
    return list(db.session.scalars(query))


def used_codes(cycle: Cycle) -> set[int]:
    """Ids of the delegates whose current code has voted (participation says so, not how)."""
    query = (
        sa.select(Delegate.id)
        .join(
            Participation,
            sa.and_(
                Participation.cycle_id == Delegate.cycle_id,
                Participation.voter_key == Delegate.code_key,
            ),
        )
        .where(Delegate.cycle_id == cycle.id)
    )
    return set(db.session.scalars(query))


# --- checking ---------------------------------------------------------------------------------


def _problem(data: DelegateData, cycle: Cycle) -> Any:
    """The first thing wrong with `data` for this cycle (a lazy message), or None."""
    name = data.name.strip()
    if not name:
        return _l("Give the delegate's name.")
    if len(name) > MAX_NAME:
        return _l("A name can have at most %(max)s characters.", max=MAX_NAME)
    if has_control_characters(name):
        return _l("The name cannot hold control characters or line breaks.")
    if data.role not in {role.value for role in DelegateRole}:
        return _l("Choose delegate, substitute or Comforça member.")
    if is_school_cycle(cycle):
        if data.school_id is None or db.session.get(School, data.school_id) is None:
            return _l("Choose the delegate's school.")
        if data.role in VOTING_ROLES and data.seat not in {seat.value for seat in Seat}:
            return _l("Choose the seat: girl or boy (one of each per school).")
        if data.role not in VOTING_ROLES and data.seat is not None:
            return _l("Comforça members have no seat.")
    else:
        if data.region_id is None or db.session.get(Region, data.region_id) is None:
            return _l("Choose the delegate's region.")
        if data.school_id is not None or data.seat is not None:
            return _l("Schools and seats are for OPCA cycles only.")
    if data.event_id is not None:
        event = db.session.get(Event, data.event_id)
        if event is None or event.cycle_id != cycle.id:
            return _l("Choose an event of this cycle, or none.")
    return None


def _checked(cycle: Cycle, data: DelegateData) -> DelegateData:
    problem = _problem(data, cycle)
    if problem is not None:
        raise ValidationFailed(problem, code="invalid_delegate")
    region_id = data.region_id
    if is_school_cycle(cycle):
        region_id = db.session.get(School, data.school_id).region_id
    seat = data.seat if is_school_cycle(cycle) and data.role in VOTING_ROLES else None
    return DelegateData(
        name=" ".join(data.name.split()),
        role=data.role,
        region_id=region_id,
        school_id=data.school_id if is_school_cycle(cycle) else None,
        seat=seat,
        event_id=data.event_id,
    )


def _seat_taken() -> Conflict:
    return Conflict(
        _l("This school already has a delegate in this seat and role (one girl and one boy)."),
        code="seat_taken",
    )


def _has_voted(cycle_id: int, key: str | None) -> bool:
    if key is None:
        return False
    found = db.session.scalar(
        sa.select(sa.literal(True)).where(
            Participation.cycle_id == cycle_id, Participation.voter_key == key
        )
    )
    return found is not None


def _entry(cycle_id: int, key: str) -> RegistryEntry | None:
    return db.session.scalar(
        sa.select(RegistryEntry).where(
            RegistryEntry.scope == delegate_scope(cycle_id), RegistryEntry.voter_key == key
        )
    )


def _commit_or_conflict() -> None:
    try:
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise _seat_taken() from e


# --- the roll ---------------------------------------------------------------------------------


def add_delegate(cycle: Cycle, data: DelegateData, actor) -> Delegate:
    data = _checked(cycle, data)
    delegate = Delegate(cycle_id=cycle.id, **asdict(data))
    db.session.add(delegate)
    try:
        db.session.flush()
    except IntegrityError as e:
        db.session.rollback()
        raise _seat_taken() from e
    audit.record(actor, "delegate.create", delegate, after=audit.snapshot(delegate, _AUDITED))
    _commit_or_conflict()
    return delegate


def update_delegate(delegate: Delegate, data: DelegateData, actor) -> Delegate:
    """Change a delegate. Their code follows them: a new region or school is written to their
    roll entry; a Comforça member has no code (an unused one is withdrawn; a used one stays)."""
    cycle = db.session.get(Cycle, delegate.cycle_id)
    data = _checked(cycle, data)
    before = audit.snapshot(delegate, _AUDITED)
    entry = _entry(cycle.id, delegate.code_key) if delegate.code_key else None
    if entry is not None and data.role not in VOTING_ROLES:
        if _has_voted(cycle.id, delegate.code_key):
            raise Conflict(
                _l("This delegate has already voted with their code: their role stays."),
                code="code_used",
            )
        db.session.delete(entry)
        delegate.code_key, delegate.code_issued_at, entry = None, None, None
    for name, value in asdict(data).items():
        setattr(delegate, name, value)
    if entry is not None:
        entry.region_id, entry.school_id = data.region_id, data.school_id
    audit.record(
        actor, "delegate.update", delegate, before=before, after=audit.snapshot(delegate, _AUDITED)
    )
    _commit_or_conflict()
    return delegate


def remove_delegate(delegate: Delegate, actor) -> None:
    """Take a delegate off the roll, with their unused code; refused once their code voted."""
    if _has_voted(delegate.cycle_id, delegate.code_key):
        db.session.rollback()
        raise Conflict(
            _l("This delegate has already voted with their code and stays on the roll."),
            code="code_used",
        )
    if delegate.code_key:
        entry = _entry(delegate.cycle_id, delegate.code_key)
        if entry is not None:
            db.session.delete(entry)
    audit.record(actor, "delegate.delete", delegate, before=audit.snapshot(delegate, _AUDITED))
    db.session.delete(delegate)
    db.session.commit()


# --- CSV import -------------------------------------------------------------------------------


@dataclass
class ImportReport:
    added: int = 0
    errors: list[str] | None = None


_ROLES_IN_CSV = {
    "": DelegateRole.DELEGATE.value,
    "delegate": DelegateRole.DELEGATE.value,
    "delegado": DelegateRole.DELEGATE.value,
    "delegada": DelegateRole.DELEGATE.value,
    "substitute": DelegateRole.SUBSTITUTE.value,
    "suplente": DelegateRole.SUBSTITUTE.value,
    "comforca": DelegateRole.COMFORCA.value,
    "comforça": DelegateRole.COMFORCA.value,
}
_SEATS_IN_CSV = {
    "": None,
    "girl": Seat.GIRL.value,
    "menina": Seat.GIRL.value,
    "boy": Seat.BOY.value,
    "menino": Seat.BOY.value,
}


class ImportRefused(ValidationFailed):
    """Nothing was imported: `errors` lists every problem as "line N: reason"."""

    code = "delegate_import_refused"

    def __init__(self, errors: list[str]):
        super().__init__(_l("Nothing was imported: correct the file and try again."))
        self.errors = errors


def _csv_rows(raw: bytes, place: str) -> list[dict]:
    if len(raw) > MAX_IMPORT_BYTES:
        raise ImportRefused([str(_l("The file is larger than 1 MB."))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ImportRefused([str(_l("The file is not UTF-8 text."))]) from e
    if "\x00" in text:
        raise ImportRefused([str(_l("The file is not UTF-8 text."))])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    expected = {"name", place}
    if not expected <= set(header) or not set(header) <= expected | {"seat", "role"}:
        raise ImportRefused(
            [
                str(
                    _l(
                        "line 1: the header must be %(header)s (role is optional).",
                        header=f"name,{place},seat,role",
                    )
                )
            ]
        )
    reader.fieldnames = header
    rows = []
    for row in reader:
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ImportRefused(
                [str(_l("The file has more than %(max)s rows.", max=MAX_IMPORT_ROWS))]
            )
        rows.append(row)
    return rows


def _row_data(cycle: Cycle, row: dict, slugs: dict[str, int]) -> tuple[DelegateData | None, Any]:
    if None in row or any(value is None for value in row.values()):
        return None, _l("the row does not have as many fields as the header")
    place = "school" if is_school_cycle(cycle) else "region"
    slug = row[place].strip().lower()
    role = _ROLES_IN_CSV.get(row.get("role", "").strip().lower())
    seat_text = row.get("seat", "").strip().lower()
    if slug not in slugs:
        if place == "school":
            return None, _l("unknown school %(slug)s", slug=repr(slug))
        return None, _l("unknown region %(slug)s", slug=repr(slug))
    if role is None:
        return None, _l("the role must be delegate, substitute or comforca")
    if seat_text not in _SEATS_IN_CSV:
        return None, _l("the seat must be girl or boy, or empty")
    data = DelegateData(
        name=row["name"],
        role=role,
        region_id=None if place == "school" else slugs[slug],
        school_id=slugs[slug] if place == "school" else None,
        seat=_SEATS_IN_CSV[seat_text],
    )
    problem = _problem(data, cycle)
    return (None, problem) if problem is not None else (data, None)


def import_delegates(cycle: Cycle, raw: bytes, actor, event_id: int | None = None) -> int:
    """Add every row of a CSV (`name,region,seat,role`; OPCA: `name,school,seat,role`), all or
    nothing: ImportRefused lists each bad row as "line N: reason". Returns how many were added.
    """
    place = "school" if is_school_cycle(cycle) else "region"
    rows = _csv_rows(raw, place)
    model = School if place == "school" else Region
    slugs = dict(db.session.execute(sa.select(model.slug, model.id)).all())
    taken = {
        tuple(row)
        for row in db.session.execute(
            sa.select(Delegate.school_id, Delegate.role, Delegate.seat).where(
                Delegate.cycle_id == cycle.id, Delegate.seat.is_not(None)
            )
        )
    }
    errors: list[str] = []
    accepted: list[DelegateData] = []
    for line, row in enumerate(rows, start=2):
        data, problem = _row_data(cycle, row, slugs)
        if data is not None:
            data = _checked(cycle, DelegateData(**(asdict(data) | {"event_id": event_id})))
            if data.seat is not None:
                seat = (data.school_id, data.role, data.seat)
                if seat in taken:
                    problem = _l("this school already has someone in this seat with this role")
                taken.add(seat)
        if problem is not None:
            errors.append(str(_l("line %(line)s: %(reason)s", line=line, reason=problem)))
        else:
            accepted.append(data)
    if not rows and not errors:
        errors.append(str(_l("The file has no rows.")))
    if errors:
        db.session.rollback()
        raise ImportRefused(errors)
    db.session.add_all(Delegate(cycle_id=cycle.id, **asdict(data)) for data in accepted)
    audit.record(actor, "delegate.import", cycle, after={"added": len(accepted)})
    _commit_or_conflict()
    return len(accepted)


# --- codes ------------------------------------------------------------------------------------


def _ensure_issuing(cycle: Cycle) -> None:
    if not takes_roll_from_delegates(cycle):
        raise Conflict(
            _l(
                "This cycle does not take its roll from its delegates: choose \"The cycle's "
                'delegates" as its voter registry in the voting settings first.'
            ),
            code="not_a_delegate_roll",
        )
    if cycle.state not in ISSUING_STATES:
        raise Conflict(
            _l("The vote of this cycle is over: no code can be issued."), code="vote_over"
        )


def _new_key(pepper: str) -> tuple[str, str]:
    code = codes.new_code()
    return code, voter_key(codes.delegate_number(code), pepper)


def issue_codes(cycle: Cycle, actor) -> list[IssuedCode]:
    """A code for every delegate (role delegate) who has none yet; the codes, once, for the
    slips. Substitutes are given one by one (`issue_code`) when they stand in."""
    _ensure_issuing(cycle)
    pepper = current_app.config["VOTER_KEY_PEPPER"]
    waiting = list(
        db.session.scalars(
            sa.select(Delegate)
            .where(
                Delegate.cycle_id == cycle.id,
                Delegate.role == DelegateRole.DELEGATE.value,
                Delegate.code_key.is_(None),
            )
            .order_by(Delegate.id)
            .with_for_update()
        )
    )
    issued = []
    for delegate in waiting:
        code, key = _new_key(pepper)
        _write_entry(cycle, delegate, key)
        issued.append(IssuedCode(delegate, code))
    audit.record(
        actor,
        "delegate.codes_issued",
        cycle,
        after={"issued": len(issued), "delegates": [d.delegate.id for d in issued]},
    )
    db.session.commit()
    return issued


def _write_entry(cycle: Cycle, delegate: Delegate, key: str) -> None:
    db.session.add(
        RegistryEntry(
            scope=delegate_scope(cycle.id),
            voter_key=key,
            birth_date=DELEGATE_BIRTH_DATE,
            region_id=delegate.region_id,
            school_id=delegate.school_id,
        )
    )
    delegate.code_key, delegate.code_issued_at = key, now()


def issue_code(delegate: Delegate, actor) -> IssuedCode:
    """A new code for one delegate or substitute: their first, or one for a lost slip, which
    makes the old code useless. Refused when the old code has already voted."""
    cycle = db.session.get(Cycle, delegate.cycle_id)
    _ensure_issuing(cycle)
    delegate = db.session.scalar(
        sa.select(Delegate).where(Delegate.id == delegate.id).with_for_update()
    )
    if delegate.role not in VOTING_ROLES:
        raise Conflict(_l("Comforça members do not vote at the forum."), code="not_a_voter")
    if _has_voted(cycle.id, delegate.code_key):
        db.session.rollback()
        raise Conflict(
            _l("This delegate has already voted with their code: no new code can be issued."),
            code="code_used",
        )
    reissue = delegate.code_key is not None
    if reissue:
        entry = _entry(cycle.id, delegate.code_key)
        if entry is not None:
            db.session.delete(entry)
            db.session.flush()
    code, key = _new_key(current_app.config["VOTER_KEY_PEPPER"])
    _write_entry(cycle, delegate, key)
    action = "delegate.code_reissued" if reissue else "delegate.code_issued"
    audit.record(actor, action, delegate, after={"delegate": delegate.id})
    db.session.commit()
    return IssuedCode(delegate, code)
