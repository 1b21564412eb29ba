"""Selecting audit entries by filter, and streaming them as CSV or JSON.

The same `AuditFilter` drives the HTML page and both downloads, so an auditor gets exactly the
entries they were looking at. Downloads stream in batches: the log only grows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import CITY_TZ
from opdigital.extensions import db
from opdigital.text_safety import FormulaSafeWriter

CSV_COLUMNS = [
    "id",
    "at",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "ip_address",
]
_BATCH = 500


@dataclass(frozen=True)
class AuditFilter:
    """What to show: every field is optional; dates are days in the city's time zone."""

    action: str = ""
    actor_email: str = ""
    object_type: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filter as query-string arguments (for links to pages and downloads)."""
        args = {
            "action": self.action,
            "actor": self.actor_email,
            "object_type": self.object_type,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in args.items() if v}


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CITY_TZ)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(selection: sa.Select, flt: AuditFilter) -> sa.Select:
    """Apply the filter's conditions to a select over AuditEntry."""
    if flt.action:
        selection = selection.where(AuditEntry.action == flt.action)
    if flt.object_type:
        selection = selection.where(AuditEntry.object_type == flt.object_type)
    if flt.actor_email:
        pattern = f"%{_escape_like(flt.actor_email.strip().lower())}%"
        selection = selection.where(
            sa.func.lower(AuditEntry.actor_email).like(pattern, escape="\\")
        )
    if flt.date_from:
        selection = selection.where(AuditEntry.at >= _start_of_day(flt.date_from))
    if flt.date_to:  # inclusive: everything before the next day starts
        selection = selection.where(AuditEntry.at < _start_of_day(flt.date_to + timedelta(days=1)))
    return selection


def distinct_values(column: sa.Column) -> list[str]:
    """Values present in the log for a column (for filter choices), sorted."""
    rows = db.session.scalars(sa.select(column).distinct().order_by(column))
    return [value for value in rows if value]


def page_of_entries(flt: AuditFilter, page: int, per_page: int):
    """One page of matching entries, newest first (a Flask-SQLAlchemy Pagination)."""
    selection = filtered(sa.select(AuditEntry), flt).order_by(AuditEntry.id.desc())
    return db.paginate(selection, page=page, per_page=per_page, error_out=False)


def iter_entries(flt: AuditFilter) -> Iterator[AuditEntry]:
    """Matching entries, oldest first, fetched in batches."""
    selection = filtered(sa.select(AuditEntry), flt).order_by(AuditEntry.id)
    yield from db.session.scalars(selection.execution_options(yield_per=_BATCH))


def compact_json(value: dict | None) -> str:
    """A JSON value on one line with sorted keys; empty for None."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _csv_line(values: list) -> str:
    # Every text cell, the address included, is neutralised against spreadsheet formulas
    # (text_safety.FormulaSafeWriter); the JSON download keeps values exactly as stored.
    buffer = io.StringIO()
    FormulaSafeWriter(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def csv_rows(flt: AuditFilter) -> Iterator[str]:
    """The CSV download, line by line, header first."""
    yield _csv_line(CSV_COLUMNS)
    for entry in iter_entries(flt):
        yield _csv_line(
            [
                entry.id,
                entry.at.isoformat(),
                entry.actor_email,
                entry.action,
                entry.object_type,
                entry.object_id,
                compact_json(entry.before),
                compact_json(entry.after),
                entry.ip_address,
            ]
        )


def json_chunks(flt: AuditFilter) -> Iterator[str]:
    """The JSON download (a list of `AuditEntry.as_dict()`), in pieces."""
    yield "["
    separator = "\n"
    for entry in iter_entries(flt):
        yield separator + json.dumps(entry.as_dict(), ensure_ascii=False, sort_keys=True)
        separator = ",\n"
    yield "\n]\n"
