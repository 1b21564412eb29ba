"""The privacy notice (issue 13, point 1): one record of processing, served as a page, as JSON
and by `opdigital privacy export`; it covers every table; production names the controller and
the encarregado or refuses to start; forms that take personal data link to it."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from opdigital import create_app
from opdigital import settings as settings_module
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.privacy import record
from opdigital.privacy.cli import CSV_COLUMNS
from tests.support import factories
from tests.support import voting as vs
from tests.support.production import full_production

# The kinds of data the issue asks the notice to name, at least.
REQUIRED_ACTIVITIES = {
    "roll",
    "participation",
    "proposal_contact",
    "staff_accounts",
    "poll_workers",
    "audit_log",
    "server_logs",
    "delegates",
    "kiosk_device",
    "session_cookie",
}


def test_every_table_is_in_the_record(app):
    """A table added without a line in the record fails here: the notice cannot drift."""
    tables = set(db.metadata.tables)
    missing = tables - record.covered_tables()
    assert not missing, f"tables missing from opdigital/privacy/record.py: {sorted(missing)}"
    unknown = record.covered_tables() - tables
    assert not unknown, f"the record names tables that do not exist: {sorted(unknown)}"
    personal = {t for a in record.ACTIVITIES for t in a.tables}
    assert not personal & set(record.WITHOUT_PERSONAL_DATA), "a table both with and without"


def test_every_activity_is_complete():
    keys = [a.key for a in record.ACTIVITIES]
    assert len(keys) == len(set(keys))
    assert set(keys) >= REQUIRED_ACTIVITIES
    for activity in record.ACTIVITIES:
        assert activity.data and activity.legal_basis, activity.key
        for text in (activity.name, activity.purpose, activity.retention, activity.shared_with):
            assert str(text).strip(), activity.key
        assert activity.tables or activity.stores, f"{activity.key} lives nowhere"
        assert all("art. 7" in str(basis) for basis in activity.legal_basis), activity.key


def test_the_page_lists_every_activity_and_the_officer(app, english_by_default):
    response = app.test_client().get("/privacidade")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for activity in record.ACTIVITIES:
        assert f'id="activity-{activity.key}"' in page
        assert str(activity.name) in page
        assert str(activity.retention) in page
    for key in ("PRIVACY_CONTROLLER_NAME", "PRIVACY_OFFICER_NAME", "PRIVACY_OFFICER_EMAIL"):
        assert app.config[key] in page
    assert "art. 18" in page
    assert 'id="requests"' in page  # where the request form will go
    assert "No analytics" in page
    assert "cannot be read back" in page


def test_the_page_shows_the_officer_phone_when_set(app, english_by_default, settings):
    settings(PRIVACY_OFFICER_PHONE="+55 31 3277-0000")
    page = app.test_client().get("/privacidade").get_data(as_text=True)
    assert "+55 31 3277-0000" in page


def test_the_page_is_portuguese_by_default(app):
    page = app.test_client().get("/privacidade").get_data(as_text=True)
    assert '<html lang="pt-BR">' in page


def test_the_json_record(app, english_by_default):
    response = app.test_client().get("/privacidade.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["officer"]["email"] == app.config["PRIVACY_OFFICER_EMAIL"]
    assert document["controller"]["name"] == app.config["PRIVACY_CONTROLLER_NAME"]
    assert [a["key"] for a in document["activities"]] == [a.key for a in record.ACTIVITIES]
    roll = next(a for a in document["activities"] if a["key"] == "roll")
    assert roll["tables"] == ["registry_entry"]
    assert roll["legal_basis"] and "art. 23" in roll["legal_basis"][0]
    assert set(document["without_personal_data"]) == set(record.WITHOUT_PERSONAL_DATA)


def test_the_cli_exports_json_and_csv(app, runner):
    result = runner.invoke(args=["privacy", "export"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["officer"]["name"] == app.config["PRIVACY_OFFICER_NAME"]
    assert len(document["activities"]) == len(record.ACTIVITIES)

    result = runner.invoke(args=["privacy", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row["key"] for row in rows] == [a.key for a in record.ACTIVITIES]
    audit = next(row for row in rows if row["key"] == "audit_log")
    assert audit["tables"] == "audit_entry"
    assert "IP address" in audit["data"]

    result = runner.invoke(args=["privacy", "export", "--format", "xml"])
    assert result.exit_code == 2


def test_the_footer_and_the_forms_link_to_the_notice(app, app_ctx, english_by_default):
    start = now() - timedelta(days=1)
    cycle = factories.cycle(
        kind="op-digital",
        state="open_for_proposals",
        phases=[("proposals", start, start + timedelta(days=10))],
    )
    election = vs.voting_cycle()
    db.session.commit()
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert 'href="/privacidade"' in home.split('class="site-footer"')[1]
    for url in (f"/ciclos/{cycle.slug}/propostas/nova", f"/ciclos/{election.slug}/votar"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert 'class="privacy-link"><a href="/privacidade">How we use these data' in page, url


@pytest.mark.parametrize("missing", settings_module.PRIVACY_REQUIRED)
def test_production_refuses_to_start_without_the_privacy_contacts(environment, missing):
    settings = environment(**full_production(**{missing: None}))
    with pytest.raises(RuntimeError, match=missing):
        settings.load_config("production")
    with pytest.raises(RuntimeError, match="Refusing to start in production"):
        create_app("production")


def test_production_reads_the_privacy_contacts(environment):
    settings = environment(**full_production(PRIVACY_OFFICER_PHONE="+55 31 3277-0000"))
    production = settings.load_config("production")
    assert full_production()["PRIVACY_OFFICER_EMAIL"] == production.PRIVACY_OFFICER_EMAIL
    assert production.PRIVACY_OFFICER_PHONE == "+55 31 3277-0000"


def test_development_has_demonstration_contacts(environment):
    settings = environment()
    for name in settings.PRIVACY_REQUIRED:
        assert getattr(settings.Development, name)
        assert getattr(settings.Testing, name)
