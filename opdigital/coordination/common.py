"""Helpers shared by the coordination views: loading objects, the actor, error messages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash
from flask_babel import gettext as _
from flask_login import current_user

from opdigital.cycles.models import Cycle, Event, Phase
from opdigital.cycles.services import get_cycle
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.proposals.services import (  # noqa: F401 - re-exported for the views
    can_record_result,
    can_review,
    can_update_execution,
    get_proposal,
)


def flash_error(error: DomainError) -> str:
    """Flash the error's message (shown on the page rendered next) and return it."""
    message = str(error)
    flash(message, "error")
    return message


def actor():
    """The signed-in user as a plain object for services and the audit log."""
    return current_user._get_current_object()


# Out-of-range ids and NUL bytes never reach these: see `guard_inputs` in factory.py.
def load_cycle(slug: str) -> Cycle:
    return get_cycle(slug)  # NotFound becomes a 404 page


def load_proposal(code: str) -> Proposal:
    return get_proposal(code)


def load_phase(phase_id: int) -> Phase:
    return db.get_or_404(Phase, phase_id)


def load_event(event_id: int) -> Event:
    return db.get_or_404(Event, event_id)


def status_counts(cycle_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """Cycle id -> {proposal status: how many}, in one query."""
    query = sa.select(Proposal.cycle_id, Proposal.status, sa.func.count(Proposal.id)).group_by(
        Proposal.cycle_id, Proposal.status
    )
    if cycle_ids is not None:
        query = query.where(Proposal.cycle_id.in_(cycle_ids))
    counts: dict[int, dict[str, int]] = {}
    for cycle_id, status, n in db.session.execute(query):
        counts.setdefault(cycle_id, {})[status] = n
    return counts


def locked_message() -> str:
    return _("The ballot of this cycle is frozen and can no longer change.")
