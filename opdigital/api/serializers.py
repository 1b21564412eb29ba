"""Plain-dict views of the models for the JSON API, matching `openapi.json` field by field.

Only public fields leave here: a proposal's contact (and anything else staff-only) never does.
Datetimes are ISO 8601 with the city's offset, so clients need no time-zone database.
"""

from __future__ import annotations

from datetime import datetime

from flask import url_for

from opdigital.clock import to_city
from opdigital.cycles.models import Cycle, Event, Phase
from opdigital.proposals.models import Proposal, ProposalHistory, ProposalStatus
from opdigital.regions.models import Region


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in America/Sao_Paulo with its offset (e.g. 2026-12-05T09:00:00-03:00)."""
    return None if moment is None else to_city(moment).isoformat()


def phase_dict(phase: Phase, at: datetime) -> dict:
    """A phase with its status ('upcoming', 'current', 'past') at `at`."""
    return {
        "id": phase.id,
        "kind": phase.kind,
        "name": phase.name,
        "description": phase.description or "",
        "position": phase.position,
        "starts_at": iso(phase.starts_at),
        "ends_at": iso(phase.ends_at),
        "status": phase.status(at),
    }


def cycle_summary(cycle: Cycle, phases: list[Phase], at: datetime) -> dict:
    """The fields of a cycle shown in the list."""
    return {
        "slug": cycle.slug,
        "kind": cycle.kind,
        "title": cycle.title,
        "edition": cycle.edition,
        "state": cycle.state,
        "total_budget_cents": cycle.total_budget_cents,
        "phases": [phase_dict(p, at) for p in phases],
    }


def cycle_detail(cycle: Cycle, phases: list[Phase], counts: dict[str, int], at: datetime) -> dict:
    """A cycle with its budgets per region, proposal counts by status and links."""
    budgets = sorted(cycle.region_budgets, key=lambda b: b.region.name)
    return cycle_summary(cycle, phases, at) | {
        "description": cycle.description or "",
        "region_budgets": [
            {"region": b.region.slug, "amount_cents": b.amount_cents} for b in budgets
        ],
        "ballot_frozen_at": iso(cycle.ballot_frozen_at),
        # Every status is present (0 when none) so clients need not guess missing keys.
        "proposal_counts": {status.value: counts.get(status.value, 0) for status in ProposalStatus},
        "links": {
            "self": url_for("api.cycle_detail", slug=cycle.slug, _external=True),
            "proposals": url_for("api.cycle_proposals", slug=cycle.slug, _external=True),
            "schedule": url_for("api.cycle_schedule", slug=cycle.slug, _external=True),
            "schedule_ics": url_for("api.cycle_schedule_ics", slug=cycle.slug, _external=True),
        },
    }


def history_dict(entry: ProposalHistory) -> dict:
    return {
        "track": entry.track,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "note": entry.note or "",
        "at": iso(entry.at),
    }


def proposal_dict(proposal: Proposal) -> dict:
    """A proposal's public record. Deliberately no `contact` and no author details."""
    return {
        "id": proposal.id,
        "code": proposal.code,
        "title": proposal.title,
        "description": proposal.description,
        "region": proposal.region.slug if proposal.region else None,
        "school": proposal.school.slug if proposal.school else None,
        "place": proposal.place or "",
        "estimated_cost_cents": proposal.estimated_cost_cents,
        "reviewed_cost_cents": proposal.reviewed_cost_cents,
        "cost_cents": proposal.cost_cents,
        "status": proposal.status,
        "rejection_reason": proposal.rejection_reason or "",
        "origin": proposal.origin,
        "execution_status": proposal.execution_status,
        "execution_note": proposal.execution_note or "",
        "history": [history_dict(h) for h in proposal.history],
    }


def event_dict(event: Event) -> dict:
    """An event; a school's event reports the school's region so region filters are visible."""
    region = event.region or (event.school.region if event.school else None)
    return {
        "id": event.id,
        "kind": event.kind,
        "title": event.title,
        "description": event.description or "",
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "place": event.place or "",
        "region": region.slug if region else None,
        "school": event.school.slug if event.school else None,
    }


def region_dict(region: Region) -> dict:
    return {
        "slug": region.slug,
        "name": region.name,
        "population": region.population,
        "need_index": region.need_index,
        "schools": [{"slug": s.slug, "name": s.name} for s in region.schools],
    }
