"""Public pages of the ballot board: its head, and looking a receipt up (DESIGN.md section 4).

The board page shows what observers should record during the vote (the head), and a form to
look a receipt up. A receipt page shows the board entry of a receipt code (the URL the receipt's
QR code encodes) with the choices recorded, or says the ballot is waiting to be sealed.

Receipt pages are rate-limited per address like the JSON lookup (guessing codes is hopeless,
but there is no reason to let anyone try fast), and never cached: the code is a secret of the
voter's, and a shared kiosk's cache must not keep it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from opdigital.board import services as board
from opdigital.cycles.models import Cycle
from opdigital.errors import NotFound
from opdigital.extensions import db, limiter
from opdigital.proposals.models import Proposal
from opdigital.public import display
from opdigital.public.loaders import public_cycle_or_404
from opdigital.voting.receipts import normalise_receipt

bp = Blueprint("board", __name__)

# Receipt codes are 16 base32 characters; anything much longer cannot be one, and is not
# worth a database lookup or a long URL.
MAX_CODE_CHARS = 64
_RECEIPT_ENDPOINTS = frozenset({"board.receipt_lookup", "board.receipt"})


def _lookup_limit() -> str:
    return current_app.config["RECEIPT_LOOKUP_LIMIT_PER_IP"]


@bp.context_processor
def inject_display_helpers() -> dict:
    # The same date helpers as the public pages (public/_macros.html's time_tag needs them).
    return {"when": display.when, "iso": display.iso, "day": display.day, "hour": display.hour}


@bp.after_request
def never_cache_receipts(response):
    # Also on 404 and 429 answers: the URL holds the code, whatever the outcome.
    if request.endpoint in _RECEIPT_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


def display_code(code: str) -> str:
    """A receipt code as printed on the receipt: groups of four, e.g. 'K7Q2-M4XA-9PLD-W3ZT'."""
    plain = normalise_receipt(code)
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


@dataclass(frozen=True)
class Choice:
    """A proposal recorded on a ballot, as the receipt page lists it."""

    id: int
    proposal: Proposal | None  # None only if the id names no proposal of the cycle


def choices_of(cycle: Cycle, ids: list[int]) -> list[Choice]:
    """The proposals of `ids`, looked up by id within the cycle, in the ballot's order."""
    found = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.cycle_id == cycle.id, Proposal.id.in_(ids))
            .options(selectinload(Proposal.region))
        )
    }
    return [Choice(i, found.get(i)) for i in ids]


def _board_settings() -> dict:
    return {
        "batch_size": board.batch_size(),
        "max_delay_minutes": max(1, round(board.max_delay().total_seconds() / 60)),
        "max_delay_seconds": int(board.max_delay().total_seconds()),
    }


@bp.get("/ciclos/<slug>/quadro")
def board_page(slug: str):
    """The board's head, what it is for, how sealing works, and the receipt lookup form."""
    cycle = public_cycle_or_404(slug)
    return render_template(
        "board/board.html",
        cycle=cycle,
        head=board.head_of(cycle),
        head_url=url_for("api.board_head", slug=cycle.slug, _external=True),
        **_board_settings(),
    )


@bp.get("/ciclos/<slug>/comprovante")
def receipt_lookup(slug: str):
    """The lookup form's target: on to the receipt's own page (the QR code's URL)."""
    cycle = public_cycle_or_404(slug)
    code = normalise_receipt(request.args.get("codigo", ""))
    if not code:
        flash(_("Type the receipt code to look it up."), "warning")
        return redirect(url_for("board.board_page", slug=cycle.slug, _anchor="consulta"))
    return redirect(url_for("board.receipt", slug=cycle.slug, code=display_code(code)))


@bp.get("/ciclos/<slug>/comprovante/<code>")
@limiter.limit(_lookup_limit)
def receipt(slug: str, code: str):
    """A receipt's board entry and choices; waiting to be sealed; or a friendly 404."""
    cycle = public_cycle_or_404(slug)
    try:
        if len(code) > MAX_CODE_CHARS:
            raise NotFound(_("No ballot with this receipt code in this cycle."))
        found = board.find_receipt(cycle, code)
    except NotFound as e:
        page = render_template(
            "board/receipt_unknown.html", cycle=cycle, message=str(e.message), code=code
        )
        return page, 404
    return render_template(
        "board/receipt.html",
        cycle=cycle,
        code=display_code(code),
        found=found,
        choices=choices_of(cycle, found.choices),
        board_url=url_for("board.board_page", slug=cycle.slug),
        **_board_settings(),
    )
