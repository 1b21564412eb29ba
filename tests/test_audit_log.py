"""The audit log page and downloads: access, order, pages, filters, exports, append-only table."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from opdigital.audit.export import CSV_COLUMNS
from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from tests.support import factories
from tests.support.client import assert_access_by_role, english_client, login_as, post_form

URLS = ["/audit/", "/audit/export.csv", "/audit/export.json"]


@pytest.fixture
def staff(app):
    return factories.staff_per_role(app)


@pytest.fixture
def auditor(app, staff):
    client = english_client(app)
    login_as(client, staff["auditor"])
    return client


def add_entries(app, *specs: dict) -> list[int]:
    """Insert audit entries directly (as services would) and return their ids."""
    with app.app_context():
        entries = []
        for spec in specs:
            values = {
                "actor_email": "ana@pbh.gov.br",
                "action": "cycle.transition",
                "object_type": "cycle",
                "object_id": "op-2026",
                "at": datetime(2026, 3, 10, 15, tzinfo=UTC),
            } | spec
            entries.append(AuditEntry(**values))
        db.session.add_all(entries)
        db.session.commit()
        return [e.id for e in entries]


@pytest.fixture
def sample(app):
    """Five entries across two days (in city time), two actors and three object types."""
    return add_entries(
        app,
        {"action": "cycle.create", "after": {"slug": "op-2026", "state": "draft"}},
        {
            "action": "cycle.transition",
            "before": {"state": "draft"},
            "after": {"state": "open_for_proposals"},
            "ip_address": "10.0.0.7",
        },
        {
            "action": "proposal.review",
            "object_type": "proposal",
            "object_id": "P00001",
            "actor_email": "bruno@pbh.gov.br",
            # 02:30 UTC on 12 March is still 11 March in Belo Horizonte (UTC-3).
            "at": datetime(2026, 3, 12, 2, 30, tzinfo=UTC),
            "after": {"note": "Orçamento revisto; custo R$ 1.200.000,00"},
        },
        {
            "action": "user.create",
            "object_type": "user",
            "object_id": '=HYPERLINK("http://evil.example")',
            "at": datetime(2026, 3, 12, 13, tzinfo=UTC),
        },
        {
            "action": "proposal.review",
            "object_type": "proposal",
            "object_id": "P00002",
            "actor_email": "Bruno@PBH.gov.br",
            "at": datetime(2026, 3, 13, 13, tzinfo=UTC),
        },
    )


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_access_by_role(app, staff, url):
    assert_access_by_role(app, url, staff, {"admin": 200, "auditor": 200, "coordinator": 403})


def test_no_route_changes_the_log(app, auditor):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    for method in ("post", "put", "patch", "delete"):
        assert getattr(auditor, method)("/audit/").status_code == 405


def test_database_refuses_update_and_delete(app, sample):
    with app.app_context():
        for statement in (
            "UPDATE audit_entry SET action = 'forged' WHERE id = :id",
            "DELETE FROM audit_entry WHERE id = :id",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(sa.text(statement), {"id": sample[0]})
                db.session.flush()
            db.session.rollback()
        assert db.session.get(AuditEntry, sample[0]).action == "cycle.create"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 5


# --- page ------------------------------------------------------------------------------------


def test_page_shows_entries_newest_first_with_compact_json(auditor, sample):
    html = auditor.get("/audit/").get_data(as_text=True)
    assert html.index("P00002") < html.index("P00001") < html.index("op-2026")
    assert "{&#34;state&#34;:&#34;draft&#34;}" in html  # before, on one line
    assert "10.0.0.7" in html
    assert "5 entries, newest first" in html


def test_page_shows_entries_written_by_account_actions(app, auditor, staff):
    admin = app.test_client()
    login_as(admin, staff["admin"])
    post_form(
        admin,
        f"/staff/accounts/{staff['coordinator'].id}",
        {"name": "Carla", "role": "coordinator", "active": "y"},
    )
    html = auditor.get("/audit/", query_string={"action": "user.update"}).get_data(as_text=True)
    assert staff["coordinator"].email in html and "Carla" in html


def test_pagination(app, auditor):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids = add_entries(
        app, *({"object_id": f"obj-{i:03d}", "at": base + timedelta(minutes=i)} for i in range(120))
    )
    first = auditor.get("/audit/").get_data(as_text=True)
    assert "obj-119" in first and "obj-070" in first and "obj-069" not in first
    assert "Page 1 of 3" in first and "page=2" in first
    third = auditor.get("/audit/?page=3").get_data(as_text=True)
    assert "obj-019" in third and "obj-000" in third and "obj-020" not in third
    for bad in ("abc", "0", "-4", "1.5"):
        response = auditor.get(f"/audit/?page={bad}")
        assert response.status_code == 200
        assert "Page 1 of 3" in response.get_data(as_text=True)
    assert auditor.get("/audit/?page=4").status_code == 404
    assert len(ids) == 120


def test_page_on_an_empty_log(auditor):
    response = auditor.get("/audit/?page=1")
    assert response.status_code == 200
    assert "No entries match these filters." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ({"action": "proposal.review"}, ["P00001", "P00002"], ["op-2026", "HYPERLINK"]),
        ({"actor": "BRUNO"}, ["P00001", "P00002"], ["op-2026"]),
        ({"object_type": "user"}, ["HYPERLINK"], ["P00001", "op-2026"]),
        ({"date_from": "2026-03-11", "date_to": "2026-03-11"}, ["P00001"], ["P00002", "op-2026"]),
        ({"date_from": "2026-03-12"}, ["HYPERLINK", "P00002"], ["P00001", "op-2026"]),
        ({"date_to": "2026-03-10"}, ["op-2026"], ["P00001", "P00002"]),
        ({"action": "no.such.action"}, ["No entries match"], ["P00001"]),
        ({"actor": "100%_"}, ["No entries match"], ["P00001"]),
    ],
)
def test_filters(auditor, sample, query, present, absent):
    response = auditor.get("/audit/", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = html[html.find('<form method="get"') :]
    table = table[table.find("</form>") :]  # the results, not the filter form's choices
    for text in present:
        assert text in table
    for text in absent:
        assert text not in table


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "31/03/2026"}, "Enter the date as YYYY-MM-DD"),
        ({"date_to": "2026-02-30"}, "Enter the date as YYYY-MM-DD"),
        ({"date_from": "2026-03-12", "date_to": "2026-03-11"}, "must not be before"),
        ({"actor": "a" * 300}, "At most 254 characters."),
    ],
)
def test_bad_filters_are_400_with_a_message(auditor, sample, query, message):
    for url in URLS:
        response = auditor.get(url, query_string=query)
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True), url


# --- exports ---------------------------------------------------------------------------------


def test_csv_export_parses_back(auditor, sample):
    response = auditor.get("/audit/export.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [int(r["id"]) for r in records] == sample  # oldest first
    second = records[1]
    assert json.loads(second["before"]) == {"state": "draft"}
    assert json.loads(second["after"]) == {"state": "open_for_proposals"}
    assert second["ip_address"] == "10.0.0.7"
    assert datetime.fromisoformat(second["at"]) == datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert records[0]["before"] == ""
    assert json.loads(records[2]["after"]) == {"note": "Orçamento revisto; custo R$ 1.200.000,00"}
    # A value that a spreadsheet would run as a formula is neutralised in the CSV.
    assert records[3]["object_id"] == '\'=HYPERLINK("http://evil.example")'


def test_csv_export_is_filtered(auditor, sample):
    response = auditor.get(
        "/audit/export.csv", query_string={"actor": "bruno", "date_to": "2026-03-12"}
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["object_id"] for r in rows] == ["P00001"]


def test_json_export_parses_back(app, auditor, sample):
    response = auditor.get("/audit/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    data = json.loads(response.get_data(as_text=True))
    with app.app_context():
        expected = [db.session.get(AuditEntry, i).as_dict() for i in sample]
    assert data == expected
    assert data[3]["object_id"] == '=HYPERLINK("http://evil.example")'  # exact in JSON


def test_json_export_is_filtered(auditor, sample):
    response = auditor.get("/audit/export.json", query_string={"object_type": "proposal"})
    data = json.loads(response.get_data(as_text=True))
    assert [d["object_id"] for d in data] == ["P00001", "P00002"]
    empty = auditor.get("/audit/export.json", query_string={"action": "nothing"})
    assert json.loads(empty.get_data(as_text=True)) == []


def test_exports_stream_more_entries_than_one_batch(app, auditor):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        db.session.execute(
            sa.insert(AuditEntry),
            [
                {
                    "at": base + timedelta(seconds=i),
                    "actor_email": "ana@pbh.gov.br",
                    "action": "cycle.update",
                    "object_type": "cycle",
                    "object_id": str(i),
                    "ip_address": "",
                }
                for i in range(1234)
            ],
        )
        db.session.commit()
    rows = list(
        csv.DictReader(io.StringIO(auditor.get("/audit/export.csv").get_data(as_text=True)))
    )
    assert [r["object_id"] for r in rows] == [str(i) for i in range(1234)]
    data = json.loads(auditor.get("/audit/export.json").get_data(as_text=True))
    assert len(data) == 1234 and data[-1]["object_id"] == "1233"
