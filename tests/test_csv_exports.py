"""Every CSV download neutralises spreadsheet formulas (OWASP "CSV injection"), in every column.

The results CSV is tested in test_results_pages.py (it needs a published tally); the helper
and the audit log's CSV here.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from opdigital.audit.export import CSV_COLUMNS
from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from opdigital.text_safety import FORMULA_STARTS, FormulaSafeWriter, csv_cell
from tests.support import factories
from tests.support.client import login_as

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "\x00=1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_starts_a_formula_gets_an_apostrophe(value):
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Praça", "", "1.000,00", "a=b", "'=already quoted", " =1"])
def test_other_text_is_left_alone(value):
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-5, Decimal("-1250.50"), 0, 3.5, None, True])
def test_numbers_stay_numbers(value):
    # A genuine negative amount is written as a number, so spreadsheets still read it as one.
    assert csv_cell(value) is value


def test_the_writer_neutralises_every_column():
    out = io.StringIO()
    writer = FormulaSafeWriter(out, lineterminator="\n")
    writer.writerow(["id", "title"])
    writer.writerows([[1, "@SUM(1)"], [Decimal("-2.50"), "=1+1"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["id", "title"],
        ["1", "'@SUM(1)"],
        ["-2.50", "'=1+1"],
    ]


@pytest.fixture
def auditor(app):
    with app.app_context():
        user = factories.user("auditor")
        person = SimpleNamespace(id=user.id)
    client = app.test_client()
    login_as(client, person)
    return client


# PostgreSQL text cannot hold NUL: every other start is stored.
STORABLE = [value for value in HOSTILE if "\x00" not in value]


def test_audit_csv_neutralises_every_text_column_the_address_included(app, auditor):
    with app.app_context():
        for value in STORABLE:
            db.session.add(
                AuditEntry(
                    at=datetime(2026, 3, 10, 15, tzinfo=UTC),
                    actor_email=value,
                    action=value,
                    object_type=value,
                    object_id=value,
                    before=None,
                    after={"title": value},
                    ip_address=value,
                )
            )
        db.session.commit()
    response = auditor.get("/audit/export.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert len(rows) == len(STORABLE)
    for row, value in zip(rows, STORABLE, strict=True):
        for column in ("actor_email", "action", "object_type", "object_id", "ip_address"):
            assert row[column] == "'" + value, column
        assert row["after"].startswith("{")  # JSON, which no spreadsheet runs
        for column in CSV_COLUMNS:
            assert not row[column].startswith(FORMULA_STARTS), column
