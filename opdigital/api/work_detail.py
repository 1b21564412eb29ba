"""One work's execution evidence: status, department, progress, money, milestones, photos and
location (`GET /api/v1/works/{work_code}`); the figures are those of the work's public page."""

from __future__ import annotations

from datetime import date

from flask import jsonify, url_for

from opdigital.api import bp
from opdigital.works.models import WorkPhoto
from opdigital.works.photos import thumbnail_size
from opdigital.works.progress import Money, Progress
from opdigital.works.queries import MilestoneView, public_work, work_evidence


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _progress(progress: Progress) -> dict:
    return {
        "percent": progress.percent,
        "done": progress.done,
        "total": progress.total,
        "late": progress.late,
        "next_due": _day(progress.next_due),
    }


def _money(money: Money) -> dict:
    return {
        "voted_cents": money.voted_cents,
        "committed_cents": money.committed_cents,
        "spent_cents": money.spent_cents,
        "committed_percent": money.committed_percent,
        "spent_percent": money.spent_percent,
        "over_budget": money.over_budget,
    }


def _milestone(view: MilestoneView) -> dict:
    milestone = view.milestone
    return {
        "title": milestone.title,
        "planned_on": _day(milestone.planned_on),
        "done_on": _day(milestone.done_on),
        "weight": milestone.weight,
        "note": milestone.note,
        "late": view.late,
    }


def _photo(photo: WorkPhoto) -> dict:
    thumb_width, thumb_height = thumbnail_size(photo.width, photo.height)
    return {
        "url": url_for("works.photo", key=photo.key, _external=True),
        "thumbnail_url": url_for("works.photo_thumbnail", key=photo.key, _external=True),
        "alt_text": photo.alt_text,
        "caption": photo.caption,
        "taken_on": _day(photo.taken_on),
        "width": photo.width,
        "height": photo.height,
        "thumbnail_width": thumb_width,
        "thumbnail_height": thumb_height,
        "source": "staff" if photo.report_id is None else "monitoring_report",
    }


@bp.get("/works/<work_code>")
def work_detail(work_code: str):
    work = public_work(work_code)
    evidence = work_evidence(work)
    # A school's work (OPCA) belongs to its school's region, as in the works list.
    region = work.region or (work.school.region if work.school else None)
    location = (
        {"latitude": work.latitude, "longitude": work.longitude, "place": work.place or ""}
        if work.has_location
        else None
    )
    return jsonify(
        code=work.code,
        title=work.title,
        cycle=work.cycle.slug,
        region=region.slug if region else None,
        # A selected work with no news yet (as the works list says it).
        execution_status=work.execution_status or "not_started",
        execution_note=work.execution_note or "",
        department=work.department or "",
        progress=_progress(evidence.progress),
        money=_money(evidence.money),
        milestones=[_milestone(m) for m in evidence.milestones],
        photos=[_photo(p) for p in evidence.photos],
        location=location,
        url=url_for("public.proposal", code=work.code, _external=True),
    )
