"""What the paper screens share: loading the cycle, the point and a batch for the signed-in
staff member (404 for what does not exist, 403 for another poll worker's point)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from opdigital.cycles.models import Cycle
from opdigital.cycles.queries import public_cycle
from opdigital.extensions import db
from opdigital.paper.entry import batch_of
from opdigital.paper.models import PaperBatch
from opdigital.paper.services import may_act_for
from opdigital.voting.models import VotingPoint
from opdigital.web import page_or_404


def cycle_for_user(slug: str) -> Cycle:
    """The cycle in the address; a poll worker sees only their own (403 for another)."""
    cycle = page_or_404(public_cycle, slug)
    if current_user.is_poll_worker and current_user.cycle_id != cycle.id:
        abort(403)
    return cycle


def point_for_user(cycle: Cycle, point_id: int) -> VotingPoint:
    """The voting point in the address, if the signed-in staff member may act for it."""
    point = db.session.get(VotingPoint, point_id)
    if point is None:
        abort(404)
    if not may_act_for(current_user, cycle.id, point.id):
        abort(403)
    return point


def batch_for_user(cycle: Cycle, batch_id: int) -> tuple[PaperBatch, VotingPoint]:
    """The batch in the address and its point, if the staff member may act for it."""
    batch = page_or_404(batch_of, cycle, batch_id)
    return batch, point_for_user(cycle, batch.voting_point_id)
