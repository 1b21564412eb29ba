"""The works list: every work chosen in every edition, filtered and paginated, with the
status summary per region (the "Obras do OP" page's data; works/catalogue.py selects them)."""

from __future__ import annotations

from flask import jsonify, request, url_for

from opdigital.api import bp
from opdigital.clock import today_in_city
from opdigital.works import catalogue
from opdigital.works.catalogue import RegionSummary, Work


def _counts(row: RegionSummary) -> dict:
    return {"total": row.total, "by_status": dict(row.by_status), "late": row.late}


def _region_summary(row: RegionSummary) -> dict:
    """A region's counts; `region` is null for the works of the whole city (no region)."""
    return {
        "region": row.region.slug if row.region else None,
        "region_name": row.region.name if row.region else None,
    } | _counts(row)


def _work(work: Work) -> dict:
    proposal, progress, money = work.proposal, work.progress, work.money
    return {
        "code": proposal.code,
        "title": proposal.title,
        "cycle": proposal.cycle.slug,
        "cycle_title": proposal.cycle.title,
        "edition": proposal.cycle.edition,
        "cycle_kind": proposal.cycle.kind,
        "region": work.region.slug if work.region else None,
        "execution_status": work.status,
        "execution_note": proposal.execution_note or "",
        "department": proposal.department or "",
        "percent_done": progress.percent,
        "late": progress.late,
        "milestones_done": progress.done,
        "milestones_total": progress.total,
        "next_due": progress.next_due.isoformat() if progress.next_due else None,
        "cost_cents": money.voted_cents,
        "committed_cents": money.committed_cents,
        "spent_cents": money.spent_cents,
        "over_budget": money.over_budget,
        "url": url_for("public.proposal", code=proposal.code, _external=True),
    }


@bp.get("/works")
def works():
    flt = catalogue.read_filter(request.args, catalogue.API_NAMES)
    number = catalogue.parse_positive(request.args.get("page"), 1)
    per_page = catalogue.parse_positive(
        request.args.get("per_page"), catalogue.PAGE_SIZE, maximum=catalogue.MAX_PAGE_SIZE
    )
    found = catalogue.build_catalogue(flt, today_in_city())
    page = catalogue.page_of(found.works, number, per_page)
    args = catalogue.filter_args(flt, catalogue.API_NAMES)

    def page_url(n: int) -> str:
        return url_for("api.works", page=n, per_page=per_page, _external=True, **args)

    return jsonify(
        works=[_work(w) for w in page.items],
        summary={
            "regions": [_region_summary(r) for r in found.regions],
            "totals": _counts(found.totals),
        },
        pagination={
            "page": page.number,
            "per_page": page.per_page,
            "total": page.total,
            "pages": page.pages,
        },
        links={
            "self": page_url(page.number),
            "next": page_url(page.number + 1) if page.has_next else None,
            "prev": page_url(page.number - 1) if page.has_prev else None,
            "html": url_for(
                "works.catalogue",
                _external=True,
                **catalogue.filter_args(flt, catalogue.PAGE_NAMES),
            ),
        },
    )
