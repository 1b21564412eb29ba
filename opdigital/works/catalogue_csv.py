"""The "Obras do OP" list as CSV: one row per work, in the list's order.

Codes rather than translated names for statuses and kinds (stable for whoever processes the
file), amounts in reais with a dot, percent and counts as numbers. Titles, region names and the
department are typed by people: cells a spreadsheet would run as a formula are neutralised
(text_safety.FormulaSafeWriter).
"""

from __future__ import annotations

import io
from decimal import Decimal

from opdigital.mail.links import external_url
from opdigital.text_safety import FormulaSafeWriter
from opdigital.works.catalogue import Work

CSV_COLUMNS = (
    "code",
    "title",
    "cycle",
    "edition",
    "cycle_kind",
    "region",
    "execution_status",
    "percent_done",
    "late",
    "milestones_done",
    "milestones_total",
    "next_due",
    "voted_cost",
    "committed",
    "spent",
    "department",
    "url",
)
_CENT = Decimal("0.01")


def _reais(cents: int | None) -> Decimal | str:
    """Centavos as reais ('1234.50'), a number the writer leaves alone; empty when unknown."""
    return "" if cents is None else (Decimal(cents) / 100).quantize(_CENT)


def csv_text(works: list[Work]) -> str:
    out = io.StringIO()
    writer = FormulaSafeWriter(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for work in works:
        proposal, progress = work.proposal, work.progress
        writer.writerow(
            [
                proposal.code,
                proposal.title,
                proposal.cycle.title,
                proposal.cycle.edition,
                proposal.cycle.kind,
                work.region.name if work.region else "",
                work.status,
                progress.percent,
                "true" if progress.late else "false",
                progress.done,
                progress.total,
                progress.next_due.isoformat() if progress.next_due else "",
                _reais(work.money.voted_cents),
                _reais(work.money.committed_cents),
                _reais(work.money.spent_cents),
                proposal.department,
                external_url("public.proposal", code=proposal.code),
            ]
        )
    return out.getvalue()
