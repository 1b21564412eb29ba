"""Proposals of a cycle by region, and one proposal with its public history."""

from __future__ import annotations

from flask import render_template, request

from opdigital.cycles.queries import public_cycle
from opdigital.proposals.models import HistoryTrack
from opdigital.proposals.queries import public_proposal
from opdigital.proposals.services import accepts_citizen_proposals
from opdigital.public import bp, loaders
from opdigital.regions.queries import all_regions, region_by_slug
from opdigital.web import page_or_404


@bp.get("/ciclos/<slug>/propostas")
def proposals(slug: str):
    """Every proposal of the cycle, grouped by region; `?regiao=` shows one region only."""
    cycle = page_or_404(public_cycle, slug)
    region = page_or_404(region_by_slug, request.args.get("regiao"))
    groups = loaders.proposals_by_region(cycle, region)
    return render_template(
        "public/proposals.html",
        cycle=cycle,
        region=region,
        regions=all_regions(),
        groups=groups,
        total=sum(len(g.proposals) for g in groups),
        accepts_proposals=accepts_citizen_proposals(cycle),
    )


@bp.get("/propostas/<code>")
def proposal(code: str):
    """A proposal, its review and its execution, as anyone may follow them (never the contact)."""
    proposal = page_or_404(public_proposal, code)
    review = [h for h in proposal.history if h.track == HistoryTrack.REVIEW]
    execution = [h for h in proposal.history if h.track == HistoryTrack.EXECUTION]
    return render_template(
        "public/proposal.html",
        proposal=proposal,
        cycle=proposal.cycle,
        review_history=review,
        execution_history=execution,
    )
