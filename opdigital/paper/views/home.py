"""Where paper work starts: a poll worker's point, or for coordinators any point of a cycle."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.paper.entry import batches_of_point
from opdigital.paper.participation import paper_participations
from opdigital.paper.printing import runs_of_point
from opdigital.paper.services import COUNTING_STATES, PRINTING_STATES
from opdigital.paper.views import bp
from opdigital.paper.views.common import cycle_for_user, point_for_user
from opdigital.polling.services import point_is_open
from opdigital.voting.models import VotingPoint

PAPER_STATES = tuple(dict.fromkeys(PRINTING_STATES + COUNTING_STATES))


@bp.route("/")
def index():
    """A poll worker goes to their point; coordinators choose a cycle and a point."""
    if current_user.is_poll_worker:
        cycle = db.session.get(Cycle, current_user.cycle_id)
        return redirect(
            url_for("paper.point", slug=cycle.slug, point_id=current_user.voting_point_id)
        )
    cycles = list(
        db.session.scalars(
            sa.select(Cycle).where(Cycle.state.in_(PAPER_STATES)).order_by(Cycle.slug)
        )
    )
    points = list(
        db.session.scalars(
            sa.select(VotingPoint).where(VotingPoint.active.is_(True)).order_by(VotingPoint.name)
        )
    )
    slug, point = request.args.get("cycle", ""), request.args.get("point", "")
    if slug and point.isdigit():
        if not any(c.slug == slug for c in cycles) or not any(p.id == int(point) for p in points):
            abort(404)
        return redirect(url_for("paper.point", slug=slug, point_id=int(point)))
    return render_template("paper/index.html", cycles=cycles, points=points)


@bp.route("/<slug>/points/<int:point_id>")
def point(slug: str, point_id: int):
    """The point's paper work: sheets printed, the paper list, batches."""
    cycle = cycle_for_user(slug)
    point = point_for_user(cycle, point_id)
    runs = runs_of_point(cycle.id, point.id)
    return render_template(
        "paper/point.html",
        cycle=cycle,
        point=point,
        runs=runs,
        printed=sum(run.count for run in runs),
        participations=paper_participations(cycle.id, point.id),
        batches=batches_of_point(cycle.id, point.id),
        is_open=point_is_open(point.id, cycle.id),
        can_print=cycle.state in PRINTING_STATES,
        can_count=cycle.state in COUNTING_STATES,
    )
