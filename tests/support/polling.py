"""Shared by the poll worker tests: a point with its poll worker, signing in on a shared device.

No tests here.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from opdigital.voting.models import VotingPoint
from tests.support import factories
from tests.support.client import english_client, post_form

# A generated password: four groups of four characters.
PASSWORD = re.compile(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b")


def point(name: str = "CRAS Barreiro", **overrides) -> VotingPoint:
    obj = VotingPoint(name=name, **overrides)
    db.session.add(obj)
    db.session.commit()
    return obj


def poll_worker(app, point_id: int, cycle_id: int, **overrides) -> SimpleNamespace:
    """A poll worker account (password `factories.PASSWORD`), as plain values."""
    with app.app_context():
        user = factories.user(
            "poll_worker", voting_point_id=point_id, cycle_id=cycle_id, **overrides
        )
        return SimpleNamespace(id=user.id, email=user.email, point_id=point_id, cycle_id=cycle_id)


def signed_in(app, person, password: str = factories.PASSWORD):
    """A browser (reading English) signed in through the staff sign-in form, as on the day."""
    client = english_client(app)
    response = post_form(client, "/login", {"email": person.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        query = sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        entries = list(db.session.scalars(query))
        db.session.expunge_all()
        return entries
