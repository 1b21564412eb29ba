"""Read-only JSON API v1 (documented in `openapi.json`, served at /api/v1/openapi.json).

Draft cycles are never public: every cycle endpoint answers 404 for them, as for unknown slugs.
Errors are `{"error": {"code", "message"}}` through `opdigital.errors`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from opdigital.api import serializers
from opdigital.clock import now
from opdigital.cycles.ical import build_calendar
from opdigital.cycles.models import Cycle, Event, RegionBudget
from opdigital.cycles.schedule import ScheduleFilter, build_schedule
from opdigital.cycles.states import CycleState
from opdigital.errors import DomainError, NotFound
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.regions.models import Region, School

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
TIMEZONE = "America/Sao_Paulo"
# Schedules change rarely and are polled by calendar apps: a short public cache is safe.
SCHEDULE_CACHE = "public, max-age=60"


@cache
def openapi_text() -> str:
    """The OpenAPI document as written (key order kept), read once per process."""
    return OPENAPI_PATH.read_text(encoding="utf-8")


@bp.get("/openapi.json")
def openapi():
    return Response(openapi_text(), mimetype="application/json")


# --- loading -------------------------------------------------------------------------------


def _public_cycle(slug: str, *options) -> Cycle:
    # Phases joined in the same query: the ballot endpoint calls this on every cast.
    cycle = (
        db.session.scalars(
            sa.select(Cycle)
            .where(Cycle.slug == slug, Cycle.state != CycleState.DRAFT.value)
            .options(joinedload(Cycle.phases), *options)
        )
        .unique()
        .first()
    )
    if cycle is None:
        # Same answer for drafts and unknown slugs: drafts must not leak their existence.
        raise NotFound(
            _("There is no public cycle called %(slug)s.", slug=slug), code="cycle_not_found"
        )
    return cycle


def _region_arg() -> Region | None:
    slug = request.args.get("region", "").strip()
    if not slug:
        return None
    region = db.session.scalar(sa.select(Region).where(Region.slug == slug))
    if region is None:
        raise NotFound(_("There is no region called %(slug)s.", slug=slug), code="region_not_found")
    return region


def _school_arg() -> School | None:
    slug = request.args.get("school", "").strip()
    if not slug:
        return None
    school = db.session.scalar(sa.select(School).where(School.slug == slug))
    if school is None:
        raise NotFound(_("There is no school called %(slug)s.", slug=slug), code="school_not_found")
    return school


def _status_arg() -> str | None:
    status = request.args.get("status", "").strip()
    if not status:
        return None
    if status not in {s.value for s in ProposalStatus}:
        raise DomainError(
            _("Unknown proposal status %(status)s.", status=status), code="invalid_status"
        )
    return status


def _cycle_page_url(cycle: Cycle) -> str:
    return url_for("public.cycle", slug=cycle.slug, _external=True)


# --- cycles --------------------------------------------------------------------------------


@bp.get("/cycles")
def cycles():
    at = now()
    rows = db.session.scalars(
        sa.select(Cycle)
        .where(Cycle.state != CycleState.DRAFT.value)
        .options(selectinload(Cycle.phases))
        .order_by(Cycle.edition.desc(), Cycle.title, Cycle.id)
    )
    return jsonify(cycles=[serializers.cycle_summary(c, c.phases, at) for c in rows])


@bp.get("/cycles/<slug>")
def cycle_detail(slug: str):
    cycle = _public_cycle(
        slug, selectinload(Cycle.region_budgets).selectinload(RegionBudget.region)
    )
    counts = dict(
        db.session.execute(
            sa.select(Proposal.status, sa.func.count())
            .where(Proposal.cycle_id == cycle.id)
            .group_by(Proposal.status)
        ).all()
    )
    return jsonify(serializers.cycle_detail(cycle, cycle.phases, counts, now()))


@bp.get("/cycles/<slug>/proposals")
def cycle_proposals(slug: str):
    cycle = _public_cycle(slug)
    region = _region_arg()
    status = _status_arg()
    query = (
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id)
        .options(
            selectinload(Proposal.region),
            selectinload(Proposal.school),
            selectinload(Proposal.history),
        )
        .order_by(Proposal.code, Proposal.id)
    )
    if region is not None:
        # A school's proposal belongs to the school's region even if no region was entered.
        in_region_schools = sa.select(School.id).where(School.region_id == region.id)
        query = query.where(
            sa.or_(Proposal.region_id == region.id, Proposal.school_id.in_(in_region_schools))
        )
    if status is not None:
        query = query.where(Proposal.status == status)
    proposals = db.session.scalars(query)
    return jsonify(proposals=[serializers.proposal_dict(p) for p in proposals])


# --- schedule ------------------------------------------------------------------------------


def _schedule(slug: str):
    cycle = _public_cycle(
        slug,
        selectinload(Cycle.events).selectinload(Event.region),
        selectinload(Cycle.events).selectinload(Event.school).selectinload(School.region),
    )
    return build_schedule(cycle, ScheduleFilter(region=_region_arg(), school=_school_arg()))


@bp.get("/cycles/<slug>/schedule")
def cycle_schedule(slug: str):
    schedule = _schedule(slug)
    at = now()
    response = jsonify(
        cycle=schedule.cycle.slug,
        timezone=TIMEZONE,
        phases=[serializers.phase_dict(p, at) for p in schedule.phases],
        events=[serializers.event_dict(e) for e in schedule.events],
    )
    response.headers["Cache-Control"] = SCHEDULE_CACHE
    return response


@bp.get("/cycles/<slug>/schedule.ics")
def cycle_schedule_ics(slug: str):
    schedule = _schedule(slug)
    calendar = build_calendar(
        schedule,
        cycle_url=_cycle_page_url(schedule.cycle),
        stamp=now(),
        feed_url=request.url,
    )
    response = Response(calendar.to_ical(), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{schedule.cycle.slug}.ics"'
    response.headers["Cache-Control"] = SCHEDULE_CACHE
    return response


# --- regions -------------------------------------------------------------------------------


@bp.get("/regions")
def regions():
    rows = db.session.scalars(
        sa.select(Region).options(selectinload(Region.schools)).order_by(Region.name)
    )
    return jsonify(regions=[serializers.region_dict(r) for r in rows])


# The casting and board endpoints live in their own modules; importing them registers them.
from opdigital.api import ballots, board, tally  # noqa: E402, F401
