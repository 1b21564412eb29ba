"""A cycle's public page: budget, timeline of phases, events by region or school, results."""

from __future__ import annotations

from flask import render_template, request, url_for

from opdigital.clock import now
from opdigital.cycles.models import CycleKind
from opdigital.cycles.queries import public_cycle
from opdigital.cycles.schedule import ScheduleFilter, build_schedule
from opdigital.delegates.queries import comforca_by_region
from opdigital.phone.switches import phone_offer
from opdigital.proposals.services import accepts_citizen_proposals
from opdigital.public import bp, loaders
from opdigital.regions.queries import all_regions, all_schools, region_by_slug, school_by_slug
from opdigital.web import page_or_404


def feed_links(slug: str, region_slug: str | None, school_slug: str | None) -> dict[str, str]:
    """iCalendar (https and webcal) and JSON links for the schedule as filtered on the page."""
    params = {"slug": slug}
    if region_slug:
        params["region"] = region_slug
    if school_slug:
        params["school"] = school_slug
    ics = url_for("api.cycle_schedule_ics", _external=True, **params)
    webcal = "webcal://" + ics.split("://", 1)[1]
    return {
        "ics": ics,
        "webcal": webcal,
        "json": url_for("api.cycle_schedule", **params),
    }


@bp.get("/ciclos/<slug>")
def cycle(slug: str):
    """The cycle page; `?regiao=` and (OPCA) `?escola=` narrow the events shown."""
    cycle = page_or_404(public_cycle, slug)
    is_opca = cycle.kind == CycleKind.OPCA
    region = page_or_404(region_by_slug, request.args.get("regiao"))
    school = page_or_404(school_by_slug, request.args.get("escola")) if is_opca else None
    schedule = build_schedule(cycle, ScheduleFilter(region=region, school=school))
    at = now()
    return render_template(
        "public/cycle.html",
        cycle=cycle,
        schedule=schedule,
        region=region,
        school=school,
        regions=all_regions(),
        schools=all_schools() if is_opca else [],
        is_opca=is_opca,
        budgets=loaders.region_budgets(cycle),
        feeds=feed_links(cycle.slug, region and region.slug, school and school.slug),
        show_results=cycle.state in loaders.RESULT_STATES,
        works=loaders.selected_works(cycle) if cycle.state in loaders.RESULT_STATES else [],
        accepts_proposals=accepts_citizen_proposals(cycle),
        comforca=comforca_by_region(cycle),
        phone=phone_offer(cycle, at),
        at=at,
    )
