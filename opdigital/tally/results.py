"""What the results page and its CSV show, assembled from a published tally (pure of Flask
routing: the views only render it).

Every figure comes from the published tally's result (`Tally.result`, a copy of the signed
package's result.json, docs/tally-format.md): the page shows what was signed, never a recount.
Proposals are looked up by id for their code, title, region and cost (the ballot is frozen, so
these are the ones in the package), and for the execution history of the works.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.formatting import money
from opdigital.proposals.models import HistoryTrack, Proposal, ProposalHistory
from opdigital.regions.models import Region
from opdigital.tally.charts import Bar, bar_chart
from opdigital.tally.models import Tally
from opdigital.text_safety import FormulaSafeWriter
from opdigital.voting.models import Participation

CSV_COLUMNS = ("id", "code", "title", "region", "cost", "votes", "selected", "allocated")


# --- what the page shows -------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalResult:
    """One proposal of the ballot with its votes, and whether the rule selected it."""

    proposal: Proposal
    votes: int
    selected: bool

    @property
    def cost_cents(self) -> int:
        return self.proposal.cost_cents

    @property
    def allocated_cents(self) -> int:
        return self.cost_cents if self.selected else 0

    @property
    def region_name(self) -> str | None:
        return self.proposal.region.name if self.proposal.region else None


@dataclass(frozen=True)
class GroupResult:
    """A region (or the whole city, `region` None): its budget, what it got, and its works."""

    region: Region | None
    budget_cents: int
    allocated_cents: int
    winners: list[ProposalResult]
    proposals: list[ProposalResult]


@dataclass(frozen=True)
class TurnoutRow:
    region: Region | None  # None: voters whose region is not recorded
    votes: int


@dataclass
class Results:
    cycle: Cycle
    record: Tally
    by_id: dict[int, ProposalResult]
    groups: list[GroupResult]
    turnout: list[TurnoutRow]
    works: list[tuple[Proposal, list[ProposalHistory]]] = field(default_factory=list)

    @property
    def result(self) -> dict:
        return self.record.result

    @property
    def rows(self) -> list[ProposalResult]:
        """Every proposal, in id order (as result.json's `votes`)."""
        return [self.by_id[pid] for pid in sorted(self.by_id)]

    @property
    def budget_per_region(self) -> bool:
        """True when each region had a budget of its own (the signed counting rule says so).

        A city-wide ballot has one budget: its regions have none, so their "available" and
        "left" figures would only read R$ 0,00 and a negative balance.
        """
        return bool(self.result["counting_rule"].get("per_region"))

    @property
    def budget_groups(self) -> list[GroupResult]:
        """Groups worth a line in the budget table and chart: a region with neither a budget
        nor a proposal (result.json lists every region) would only add a row of zeros."""
        return [g for g in self.groups if g.budget_cents or g.proposals or g.winners]

    @property
    def winners(self) -> list[ProposalResult]:
        """The selected proposals in the order the rule selected them."""
        return [self.by_id[pid] for pid in self.result["selected"] if pid in self.by_id]


def _proposals(cycle: Cycle, ids: list[int]) -> dict[int, Proposal]:
    rows = db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id, Proposal.id.in_(ids))
        .options(selectinload(Proposal.region), selectinload(Proposal.history))
    )
    return {p.id: p for p in rows}


def turnout_by_region(cycle: Cycle) -> list[TurnoutRow]:
    """Voters per region of residence (participation rows: who voted, never what)."""
    counts = db.session.execute(
        sa.select(Participation.region_id, sa.func.count())
        .where(Participation.cycle_id == cycle.id)
        .group_by(Participation.region_id)
    ).all()
    regions = {r.id: r for r in db.session.scalars(sa.select(Region))}
    rows = [TurnoutRow(regions.get(rid) if rid else None, int(n)) for rid, n in counts]
    return sorted(rows, key=lambda r: (r.region is None, r.region.name if r.region else ""))


def build_results(cycle: Cycle, record: Tally) -> Results:
    """The page's figures, from the published result and the proposals it names."""
    result = record.result
    selected = set(result["selected"])
    proposals = _proposals(cycle, [v["proposal_id"] for v in result["votes"]])
    by_id = {
        v["proposal_id"]: ProposalResult(
            proposals[v["proposal_id"]], v["votes"], v["proposal_id"] in selected
        )
        for v in result["votes"]
        if v["proposal_id"] in proposals
    }
    regions = {r.id: r for r in db.session.scalars(sa.select(Region))}
    groups = []
    for group in result["by_region"]:
        members = [row for row in by_id.values() if row.proposal.region_id == group["region_id"]]
        members.sort(key=lambda row: (-row.votes, row.proposal.code))
        groups.append(
            GroupResult(
                region=regions.get(group["region_id"]) if group["region_id"] else None,
                budget_cents=group["budget_cents"],
                allocated_cents=group["allocated_cents"],
                winners=[by_id[pid] for pid in group["selected"] if pid in by_id],
                proposals=members,
            )
        )
    works = [
        (row.proposal, [h for h in row.proposal.history if h.track == HistoryTrack.EXECUTION])
        for row in (by_id[pid] for pid in result["selected"] if pid in by_id)
    ]
    return Results(cycle, record, by_id, groups, turnout_by_region(cycle), works)


def _group_name(group: GroupResult) -> str:
    return group.region.name if group.region else _("Whole city")


def votes_chart(results: Results):
    """Votes per proposal, grouped as in the tables, selected proposals highlighted."""
    # Outside any f-string, so that the message extractor sees it.
    selected_mark = " (" + _("selected") + ")"
    bars = [
        Bar(
            label=f"{row.proposal.code} · {row.proposal.title}"
            + (selected_mark if row.selected else ""),
            value=row.votes,
            value_text=str(row.votes),
            highlighted=row.selected,
        )
        for group in results.groups
        for row in group.proposals
    ]
    return bar_chart(
        "chart-votes",
        _("Votes per proposal"),
        _(
            "Horizontal bars, one per proposal, longer for more votes; selected proposals are "
            "marked. The table 'Votes and money per proposal' gives the same figures."
        ),
        bars,
    )


def _allocated_text(results: Results, group: GroupResult) -> str:
    if not results.budget_per_region:  # one city-wide budget: a region has none to compare
        return money(group.allocated_cents)
    return _(
        "%(allocated)s of %(budget)s",
        allocated=money(group.allocated_cents),
        budget=money(group.budget_cents),
    )


def money_chart(results: Results):
    """Money allocated per region (and city-wide), against each group's budget if it has one."""
    bars = [
        Bar(
            label=_group_name(group),
            value=group.allocated_cents,
            value_text=_allocated_text(results, group),
        )
        for group in results.budget_groups
    ]
    return bar_chart(
        "chart-money",
        _("Money allocated per region"),
        _(
            "Horizontal bars, one per region, longer for more money allocated to its works. "
            "The table 'Budget used per region' gives the same figures."
        ),
        bars,
    )


_CENT = Decimal("0.01")


def _reais(cents: int) -> Decimal:
    """Centavos as reais with two decimals, written with a dot ('1234.50'): exact, locale-free.

    A number, not text: the CSV writer neutralises formulas in text cells only.
    """
    return (Decimal(cents) / 100).quantize(_CENT)


def results_csv_text(results: Results) -> str:
    """One row per proposal (id order): amounts in reais, `selected` as true/false.

    Titles and region names are typed by people: cells that a spreadsheet would run as a
    formula are neutralised (text_safety.FormulaSafeWriter).
    """
    out = io.StringIO()
    writer = FormulaSafeWriter(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in results.rows:
        writer.writerow(
            [
                row.proposal.id,
                row.proposal.code,
                row.proposal.title,
                row.region_name or "",
                _reais(row.cost_cents),
                row.votes,
                "true" if row.selected else "false",
                _reais(row.allocated_cents),
            ]
        )
    return out.getvalue()
