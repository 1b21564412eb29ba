"""Step 4: the receipt code and its QR code, shown once."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from opdigital.cycles.models import Cycle
from opdigital.voting import flow
from opdigital.voting.limits import current_client
from opdigital.voting.services import frozen_ballot
from opdigital.voting.turnout import running_totals
from opdigital.voting.views import bp
from opdigital.voting.views.pages import kiosk_start
from opdigital.voting.views.presentation import proposals_by_id
from opdigital.voting.views.qr import qr_svg, receipt_lookup_url
from opdigital.voting.views.steps import voting_step


@bp.get("/ciclos/<slug>/votar/comprovante")
@voting_step(open_only=False, needs_voter=False)
def receipt(cycle: Cycle):
    """The receipt code and its QR code, shown once (works after voting closed, too)."""
    code = flow.take_receipt(cycle)
    if code is None:
        if current_client().is_kiosk:  # the back button after "next voter": nothing to show
            return kiosk_start()
        return render_template("voting/receipt_shown.html", cycle=cycle)
    lookup = receipt_lookup_url(request.host_url, cycle.slug, code)
    return render_template(
        "voting/receipt.html",
        cycle=cycle,
        code=code,
        qr=qr_svg(lookup, title=_("QR code of your receipt %(code)s", code=code)),
        totals=_totals_by_region(cycle) if cycle.show_running_totals else None,
    )


def _totals_by_region(cycle: Cycle) -> list[tuple[str | None, list[tuple[object, int]]]]:
    totals = running_totals(cycle)
    proposals = proposals_by_id(p.id for p in frozen_ballot(cycle).projects).values()
    groups: dict[str | None, list] = {}
    for proposal in proposals:
        region = proposal.region.name if proposal.region else None
        groups.setdefault(region, []).append((proposal, totals.get(proposal.id, 0)))
    return [
        (region, sorted(rows, key=lambda row: (-row[1], row[0].title)))
        for region, rows in sorted(groups.items(), key=lambda g: (g[0] is None, g[0] or ""))
    ]
