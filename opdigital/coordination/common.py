"""Helpers shared by the coordination views: loading objects, the actor, error messages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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

# Services speak English; these are the messages staff see, translated. Keyed by the service's
# exact message first, then by error code; anything unknown is shown as the service wrote it.
_BY_MESSAGE = {
    "The slug may only have lower-case letters, digits and hyphens.": _l(
        "The slug may only have lower-case letters, digits and hyphens."
    ),
    "The title is required.": _l("The title is required."),
    "The edition must be a year.": _l("The edition must be a year."),
    "The budget cannot be negative.": _l("The budget cannot be negative."),
    "The age limits are not valid.": _l("The age limits are not valid."),
    "The end must come after the start.": _l("The end must come after the start."),
    "A cycle with this slug already exists.": _l("A cycle with this slug already exists."),
    "The kind of a cycle cannot change.": _l("The kind of a cycle cannot change."),
    "The phase needs a name.": _l("The phase needs a name."),
    "The event needs a title.": _l("The event needs a title."),
    "Unknown region.": _l("Unknown region."),
    "Unknown school.": _l("Unknown school."),
    "Unknown region in the budget.": _l("Unknown region in the budget."),
    "A region's budget cannot be negative.": _l("A region's budget cannot be negative."),
    "The regions' budgets add up to more than the cycle's total.": _l(
        "The regions' budgets add up to more than the cycle's total."
    ),
    "The equal share must be between 0 and 100 percent.": _l(
        "The equal share must be between 0 and 100 percent."
    ),
    "The title must have between 5 and 160 characters.": _l(
        "The title must have between 5 and 160 characters."
    ),
    "The description must have between 20 and 5000 characters.": _l(
        "The description must have between 20 and 5000 characters."
    ),
    "The estimated cost must be a positive amount.": _l(
        "The estimated cost must be a positive amount."
    ),
    "Choose the region of the proposal.": _l("Choose the region of the proposal."),
    "Choose the school of the proposal.": _l("Choose the school of the proposal."),
    "The school is not in the chosen region.": _l("The school is not in the chosen region."),
    "Proposals can no longer be added to this cycle.": _l(
        "Proposals can no longer be added to this cycle."
    ),
    "Only a submitted proposal can go under review.": _l(
        "Only a submitted proposal can go under review."
    ),
    "This proposal cannot be reviewed now.": _l("This proposal cannot be reviewed now."),
    "Write the technical opinion.": _l("Write the technical opinion."),
    "The reviewed cost must be a positive amount.": _l(
        "The reviewed cost must be a positive amount."
    ),
    "A rejection needs a public reason.": _l("A rejection needs a public reason."),
    "Results are recorded after voting closes and before they are published.": _l(
        "Results are recorded after voting closes and before they are published."
    ),
    "Only proposals on the ballot have a result.": _l(
        "Only proposals on the ballot have a result."
    ),
    "Only selected works have an execution status.": _l(
        "Only selected works have an execution status."
    ),
    "Execution is followed once the result is known.": _l(
        "Execution is followed once the result is known."
    ),
    "A cancellation needs a public reason.": _l("A cancellation needs a public reason."),
    "The ballot needs at least one accepted proposal.": _l(
        "The ballot needs at least one accepted proposal."
    ),
}
_BY_CODE = {
    "ballot_frozen": _l("The ballot of this cycle is frozen and can no longer change."),
    "illegal_transition": _l("This cycle cannot move to that state from its current state."),
    "unknown_kind": _l("Unknown cycle kind."),
    "unknown_phase_kind": _l("Unknown phase kind."),
    "unknown_event_kind": _l("Unknown event kind."),
    "unknown_origin": _l("Unknown origin."),
    "unknown_status": _l("Unknown execution status."),
}


def describe(error: DomainError) -> str:
    """The message staff see for a refused operation, in their language."""
    message = _BY_MESSAGE.get(error.message) or _BY_CODE.get(error.code)
    return str(message) if message is not None else error.message


def flash_error(error: DomainError) -> str:
    """Flash the error's message (shown on the page rendered next) and return it."""
    message = describe(error)
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
