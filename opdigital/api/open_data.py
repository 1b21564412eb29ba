"""Open data: cycles, schedules (JSON and iCalendar), proposals, regions, schools, OpenAPI."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from flask import Response, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from opdigital.api import bp, serializers
from opdigital.clock import now
from opdigital.cycles.ical import build_calendar
from opdigital.cycles.models import Cycle, Event, RegionBudget
from opdigital.cycles.queries import public_cycle, public_cycles
from opdigital.cycles.schedule import ScheduleFilter, build_schedule
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.proposals.queries import public_proposals
from opdigital.regions.models import Region, School
from opdigital.regions.queries import all_regions, region_by_slug, school_by_slug

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


# --- query arguments -----------------------------------------------------------------------


def _region_arg() -> Region | None:
    return region_by_slug(request.args.get("region", "").strip())


def _school_arg() -> School | None:
    return school_by_slug(request.args.get("school", "").strip())


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
    rows = public_cycles(selectinload(Cycle.phases))
    return jsonify(cycles=[serializers.cycle_summary(c, c.phases, at) for c in rows])


@bp.get("/cycles/<slug>")
def cycle_detail(slug: str):
    cycle = public_cycle(slug, selectinload(Cycle.region_budgets).selectinload(RegionBudget.region))
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
    cycle = public_cycle(slug)
    proposals = public_proposals(cycle, region=_region_arg(), status=_status_arg())
    return jsonify(proposals=[serializers.proposal_dict(p) for p in proposals])


# --- schedule ------------------------------------------------------------------------------


def _schedule(slug: str):
    cycle = public_cycle(
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
    rows = all_regions(selectinload(Region.schools))
    return jsonify(regions=[serializers.region_dict(r) for r in rows])
