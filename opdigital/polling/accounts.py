"""Poll worker accounts: created by coordinators for one voting point and one cycle, one at a
time or from a CSV file, each with a generated password shown once (docs/voting-day.md).

The password is returned to the caller, which shows it on the page answering the request and
nowhere else: it is not logged, not in the audit log (which records the account's e-mail, role,
point and cycle) and not kept anywhere but as its argon2id hash.

CSV format (`parse_poll_worker_csv`): UTF-8 (a byte-order mark is fine; Windows-1252, as Excel
saves it in Brazil, is read too), comma- or semicolon-separated, a header row naming the
columns, in any order: `name`, `email` and, when the upload is not made on a voting point's
page, `voting_point` (the point's number as the voting points page shows it, or its exact
name). Portuguese headers are accepted too: `nome`, `e-mail`, `posto`. At most
`MAX_CSV_ROWS` rows and `MAX_CSV_BYTES` bytes. Every row is checked, and the file is refused as
a whole, with each faulty row's line number, if any row is wrong: nobody is created then.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opdigital.accounts.models import Role, User
from opdigital.accounts.passwords import check_password_rules
from opdigital.accounts.services import hash_password, normalise_email
from opdigital.audit import services as audit
from opdigital.cycles.models import Cycle
from opdigital.errors import Conflict, DomainError, NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.polling.services import VOTE_NOT_OVER
from opdigital.text_safety import has_control_characters
from opdigital.voting.models import VotingPoint

# Hashing a password takes about 0.1 s (argon2id): 100 accounts are created within ~10 s.
MAX_CSV_ROWS = 100
MAX_CSV_BYTES = 64 * 1024
NAME_MAX = 120
EMAIL_MAX = 254

# Generated passwords: four groups of four characters from an alphabet without look-alikes
# (no 0/o, 1/l/i), easy to type from paper on a shared device; about 79 bits.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet
PASSWORD_GROUPS = 4
PASSWORD_GROUP_LENGTH = 4

_HEADERS = {
    "name": "name",
    "nome": "name",
    "email": "email",
    "e-mail": "email",
    "voting_point": "voting_point",
    "voting point": "voting_point",
    "posto": "voting_point",
    "ponto": "voting_point",
    "posto de votação": "voting_point",
}


@dataclass(frozen=True)
class NewPollWorker:
    """One account to create: a name, an e-mail and the point it serves."""

    name: str
    email: str
    voting_point_id: int


@dataclass(frozen=True)
class Created:
    """An account just made and its password, to show once."""

    user: User
    password: str
    point_name: str


@dataclass(frozen=True)
class RowError:
    line: int  # the file's line number (the header is line 1)
    message: str


class CsvRefused(ValidationFailed):
    """The file was refused as a whole; `errors` says which rows were wrong and why."""

    code = "csv_refused"

    def __init__(self, message, errors: Sequence[RowError] = ()):
        super().__init__(message)
        self.errors = list(errors)


def generate_password() -> str:
    """A random password that passes the staff password rules (checked, to be sure)."""
    while True:
        groups = (
            "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_LENGTH))
            for _ in range(PASSWORD_GROUPS)
        )
        password = "-".join(groups)
        try:
            check_password_rules(password)
        except ValidationFailed:  # pragma: no cover - about one in a billion draws
            continue
        return password


def cycles_for_poll_workers() -> list[Cycle]:
    """Cycles whose vote is not over, newest first: those poll workers can be made for."""
    query = (
        sa.select(Cycle)
        .where(Cycle.state.in_([s.value for s in VOTE_NOT_OVER]))
        .order_by(Cycle.edition.desc(), Cycle.title)
    )
    return list(db.session.scalars(query))


def poll_workers_of(voting_point_id: int) -> list[User]:
    """The poll workers of a voting point (every cycle), active first, by name."""
    query = (
        sa.select(User)
        .where(User.role == Role.POLL_WORKER, User.voting_point_id == voting_point_id)
        .order_by(User.active.desc(), User.cycle_id.desc(), User.name, User.email)
    )
    return list(db.session.scalars(query))


def get_poll_worker(user_id: int, voting_point_id: int) -> User:
    """The poll worker `user_id` of this voting point, or NotFound (another point's too)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_poll_worker or user.voting_point_id != voting_point_id:
        raise NotFound(_l("There is no such poll worker at this voting point."))
    return user


def check_name(name: str) -> str | None:
    """What is wrong with a poll worker's name, or None."""
    name = name.strip()
    if not name:
        return _l("Give the poll worker's name.")
    if len(name) > NAME_MAX:
        return _l("The name can have at most %(n)d characters.", n=NAME_MAX)
    if has_control_characters(name):
        return _l("The name has a control character.")
    return None


def check_email(email: str) -> str | None:
    """What is wrong with an e-mail address, or None."""
    email = normalise_email(email)
    if not email:
        return _l("Give the poll worker's e-mail address.")
    if len(email) > EMAIL_MAX or has_control_characters(email):
        return _l("Enter a valid e-mail address.")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return _l("Enter a valid e-mail address.")
    return None


def _existing_emails(emails: Sequence[str]) -> set[str]:
    if not emails:
        return set()
    return set(db.session.scalars(sa.select(User.email).where(User.email.in_(list(emails)))))


def _cycle_for_creation(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(_l("There is no such cycle."))
    if cycle.state not in VOTE_NOT_OVER:
        raise Conflict(
            _l("The vote of this cycle is over: it needs no more poll workers."),
            code="cycle_over",
        )
    return cycle


def create_poll_workers(
    people: Sequence[NewPollWorker], cycle_id: int, actor: User
) -> list[Created]:
    """Create every account, or none: each with a generated password (returned, shown once).

    Refuses (ValidationFailed / Conflict) an unknown or inactive point, a cycle whose vote is
    over, a bad name or e-mail, and an e-mail already used (in the list or by any account).
    """
    cycle = _cycle_for_creation(cycle_id)
    points = {
        point.id: point
        for point in db.session.scalars(
            sa.select(VotingPoint).where(
                VotingPoint.id.in_({person.voting_point_id for person in people})
            )
        )
    }
    seen: set[str] = set()
    for person in people:
        point = points.get(person.voting_point_id)
        if point is None:
            raise NotFound(_l("There is no such voting point."))
        if not point.active:
            raise Conflict(
                _l("The voting point %(name)s is inactive.", name=point.name), code="point_inactive"
            )
        problem = check_name(person.name) or check_email(person.email)
        if problem:
            raise ValidationFailed(problem, code="invalid_person")
        email = normalise_email(person.email)
        if email in seen:
            raise Conflict(_l("An e-mail address appears twice."), code="duplicate_email")
        seen.add(email)
    if _existing_emails(list(seen)):
        raise Conflict(_l("An account with this e-mail already exists."), code="duplicate_email")

    created = []
    try:
        for person in people:
            password = generate_password()
            email = normalise_email(person.email)
            user = User(
                email=email,
                name=person.name.strip(),
                role=Role.POLL_WORKER.value,
                password_hash=hash_password(password),
                voting_point_id=person.voting_point_id,
                cycle_id=cycle.id,
            )
            db.session.add(user)
            db.session.flush()
            audit.record(
                actor,
                "user.create",
                user,
                after={
                    "email": email,
                    "role": Role.POLL_WORKER.value,
                    "voting_point_id": person.voting_point_id,
                    "cycle_id": cycle.id,
                },
            )
            created.append(Created(user, password, points[person.voting_point_id].name))
        db.session.commit()
    except IntegrityError as e:  # an account made meanwhile with one of these e-mails
        db.session.rollback()
        raise Conflict(
            _l("An account with this e-mail already exists."), code="duplicate_email"
        ) from e
    except BaseException:
        db.session.rollback()
        raise
    return created


def set_poll_worker_active(user: User, active: bool, actor: User) -> User:
    """Deactivate (or reactivate) a poll worker; deactivation ends their sessions at once."""
    if not user.is_poll_worker:
        raise NotFound(_l("There is no such poll worker at this voting point."))
    if user.active == active:
        return user
    before = {"active": user.active}
    if not active:
        user.end_sessions()
    user.active = active
    audit.record(actor, "user.update", user, before=before, after={"active": active})
    db.session.commit()
    return user


# --- the CSV file --------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _point_lookup() -> tuple[dict[int, VotingPoint], dict[str, list[VotingPoint]]]:
    points = list(db.session.scalars(sa.select(VotingPoint)))
    by_name: dict[str, list[VotingPoint]] = {}
    for point in points:
        by_name.setdefault(point.name.strip().casefold(), []).append(point)
    return {point.id: point for point in points}, by_name


def _find_point(value: str, by_id: dict, by_name: dict) -> tuple[VotingPoint | None, str | None]:
    value = value.strip()
    if not value:
        return None, _l("Give the voting point (its number or its name).")
    if value.isdigit():
        point = by_id.get(int(value)) if len(value) < 10 else None
        if point is None:
            return None, _l("There is no voting point number %(n)s.", n=value)
    else:
        found = by_name.get(value.casefold(), [])
        if len(found) > 1:
            return None, _l("Several voting points are named %(name)s: use its number.", name=value)
        if not found:
            return None, _l("There is no voting point named %(name)s.", name=value)
        point = found[0]
    if not point.active:
        return None, _l("The voting point %(name)s is inactive.", name=point.name)
    return point, None


def parse_poll_worker_csv(raw: bytes, voting_point: VotingPoint | None) -> list[NewPollWorker]:
    """The people of an uploaded file (format in the module's docstring), or CsvRefused with
    every faulty row. `voting_point`: the page's point (then the column may be left out, and
    may only name that point)."""
    if len(raw) > MAX_CSV_BYTES:
        raise CsvRefused(_l("The file is too large: at most %(kb)d KB.", kb=MAX_CSV_BYTES // 1024))
    text = _decode(raw)
    if "\x00" in text:
        raise CsvRefused(_l("This is not a CSV text file."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    try:
        header = next(reader, None)
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as e:
        raise CsvRefused(_l("The file could not be read as CSV.")) from e
    columns = _columns(header, need_point=voting_point is None)
    if not rows or all(not any(cell.strip() for cell in row) for _, row in rows):
        raise CsvRefused(_l("The file has no poll worker under its header."))
    rows = [(line, row) for line, row in rows if any(cell.strip() for cell in row)]
    if len(rows) > MAX_CSV_ROWS:
        raise CsvRefused(
            _l("The file has %(n)d rows: at most %(max)d at a time.", n=len(rows), max=MAX_CSV_ROWS)
        )
    by_id, by_name = _point_lookup()
    people, errors, first_line = [], [], {}
    for line, row in rows:
        problems = []
        if len(row) > len(header):
            problems.append(_l("This row has more cells than the header."))

        def cell(column: str, row=row) -> str:
            index = columns.get(column)
            return row[index].strip() if index is not None and index < len(row) else ""

        name, email = cell("name"), normalise_email(cell("email"))
        problems += [p for p in (check_name(name), check_email(email)) if p]
        point, point_value = voting_point, cell("voting_point")
        if voting_point is None or point_value:
            point, problem = _find_point(point_value, by_id, by_name)
            if problem:
                problems.append(problem)
            elif voting_point is not None and point.id != voting_point.id:
                problems.append(
                    _l("This row names another voting point: upload it from that point's page.")
                )
        if email and email in first_line:
            problems.append(
                _l("This e-mail address is also on line %(line)d.", line=first_line[email])
            )
        first_line.setdefault(email, line)
        if problems:
            errors += [RowError(line, str(p)) for p in problems]
        elif point is not None:
            people.append(NewPollWorker(name=name, email=email, voting_point_id=point.id))
    taken = _existing_emails([p.email for p in people])
    errors += [
        RowError(first_line[email], str(_l("An account with this e-mail already exists.")))
        for email in sorted(taken, key=first_line.get)
    ]
    if errors:
        errors.sort(key=lambda e: e.line)
        raise CsvRefused(_l("The file was not imported: nobody was created."), errors)
    return people


def _columns(header: list[str] | None, *, need_point: bool) -> dict[str, int]:
    if not header:
        raise CsvRefused(_l("The file is empty."))
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _HEADERS.get(title.strip().strip('"').casefold())
        if key is None:
            if title.strip():
                raise CsvRefused(
                    _l(
                        "Line 1 must name the columns (name, email, voting_point); "
                        "%(column)s is not one of them.",
                        column=title.strip()[:40],
                    )
                )
            continue
        if key in columns:
            raise CsvRefused(_l("Line 1 names a column twice."))
        columns[key] = index
    missing = [c for c in ("name", "email") if c not in columns]
    if need_point and "voting_point" not in columns:
        missing.append("voting_point")
    if missing:
        raise CsvRefused(
            _l("Line 1 must name the columns; missing: %(columns)s.", columns=", ".join(missing))
        )
    return columns


def refusal_errors(error: DomainError) -> list[RowError]:
    """The row errors of a refusal (none for a refusal that is not about rows)."""
    return list(getattr(error, "errors", []))
