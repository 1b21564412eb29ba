"""Shared by the coordination tests: signing in, CSRF tokens, a small world, form data.

No tests here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from flask import session
from flask_wtf.csrf import generate_csrf

from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from tests.support import factories
from tests.support.client import login_as

START = datetime(2026, 3, 2, 3, tzinfo=UTC)  # 2026-03-02 00:00 in Belo Horizonte


def sign_in(client, user) -> None:
    """Sign in and read pages in English, so tests match messages whatever the catalogue."""
    login_as(client, user)
    with client.session_transaction() as sess:
        sess["lang"] = "en"


def token(app, client) -> str:
    """A valid CSRF token for `client`'s session, without needing a page with a form."""
    with client.session_transaction() as sess:
        raw = sess.get("csrf_token")
    with app.test_request_context():
        if raw:
            session["csrf_token"] = raw
        value = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as sess:
        sess["csrf_token"] = raw
    return value


def post(app, client, url: str, data: dict | None = None, **kwargs):
    """POST with a valid CSRF token."""
    return client.post(url, data={"csrf_token": token(app, client), **(data or {})}, **kwargs)


def audit_count(action: str | None = None) -> int:
    query = sa.select(sa.func.count(AuditEntry.id))
    if action:
        query = query.where(AuditEntry.action == action)
    return db.session.scalar(query)


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def text(response) -> str:
    """The page's text with tags removed and spaces collapsed, for message checks."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<[^>]+>", " ", body)
    body = body.replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return re.sub(r"\s+", " ", body)


def world() -> SimpleNamespace:
    """Two cycles: a draft one being prepared, and a tallied one whose works are followed."""
    region = factories.region(name="Barreiro", slug="barreiro", population=280_000)
    other = factories.region(name="Venda Nova", slug="venda-nova", population=270_000)
    school = factories.school(region)
    draft = factories.cycle(
        slug="op-2026",
        title="OP Digital 2026",
        phases=[("proposals", START, START + timedelta(days=30))],
    )
    phase = draft.phases[0]
    event = factories.event(draft, region_id=region.id)
    submitted = factories.proposal(draft, code="OPD2026-0001", region_id=region.id)
    tallied = factories.cycle(slug="op-2025", title="OP Digital 2025", state="tallied")
    selected = factories.proposal(
        tallied,
        code="OPD2025-0001",
        status="selected",
        execution_status="not_started",
        region_id=region.id,
    )
    on_ballot = factories.proposal(
        tallied, code="OPD2025-0002", status="on_ballot", region_id=other.id
    )
    return SimpleNamespace(
        region_id=region.id,
        other_region_id=other.id,
        school_id=school.id,
        slug=draft.slug,
        cycle_id=draft.id,
        phase_id=phase.id,
        event_id=event.id,
        code=submitted.code,
        tallied_slug=tallied.slug,
        selected_code=selected.code,
        on_ballot_code=on_ballot.code,
    )


def phase_form(**overrides) -> dict:
    return {
        "kind": "review",
        "name": "Análise técnica",
        "description": "",
        "position": "1",
        "starts_at": "2026-04-01T00:00",
        "ends_at": "2026-04-30T18:00",
    } | overrides


def event_form(w, **overrides) -> dict:
    return {
        "kind": "assembly",
        "title": "Assembleia do Barreiro",
        "description": "Primeira rodada",
        "starts_at": "2026-03-10T19:00",
        "ends_at": "2026-03-10T22:00",
        "place": "Escola Municipal do Barreiro",
        "region_id": str(w.region_id),
    } | overrides


def cycle_form(**overrides) -> dict:
    return {
        "kind": "op-regional",
        "slug": "op-regional-2027",
        "title": "OP Regional 2027/2028",
        "edition": "2027",
        "total_budget": "100.000.000,00",
        "description": "Ciclo regional",
        "min_voter_age": "16",
        "max_voter_age": "",
        "start": "2027-02-01",
    } | overrides


def edit_cycle_form(slug: str, /, **overrides) -> dict:
    """The edit form of the cycle `slug` (the world's draft one), its title and budget revised."""
    return {
        "slug": slug,
        "title": "OP Digital 2026 (revisto)",
        "edition": "2026",
        "total_budget": "60.000.000,00",
        "description": "",
        "min_voter_age": "16",
        "max_voter_age": "",
    } | overrides


def proposal_form(w, **overrides) -> dict:
    return {
        "origin": "assembly",
        "title": "Praça da Vila Pinho",
        "description": "Revitalização da praça com iluminação, bancos e acessibilidade.",
        "region_id": str(w.region_id),
        "place": "Rua dos Pinhos",
        "estimated_cost": "1.500.000,00",
        "author_name": "Assembleia do Barreiro",
        "contact": "barreiro@example.org",
    } | overrides


def voting_settings_form(**overrides) -> dict:
    return {
        "ballot_rule": "approval",
        "min_choices": "1",
        "max_choices": "5",
        "min_budget_share_percent": "",
        "counting_rule": "greedy",
        "min_voter_age": "16",
        "max_voter_age": "",
        "age_reference_date": "2026-11-01",
        "restrict_region_id": "",
        "registry_scope": "city",
        "shuffle_ballot": "y",
    } | overrides
