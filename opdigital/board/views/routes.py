"""Routes of the board blueprint (registered on `bp` from the package)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from opdigital import display
from opdigital.board import services as board
from opdigital.board.views import bp
from opdigital.cycles.models import Cycle
from opdigital.cycles.queries import public_cycle
from opdigital.errors import NotFound
from opdigital.extensions import db, limiter
from opdigital.proposals.models import Proposal
from opdigital.voting.receipts import MAX_CODE_CHARS, normalise_receipt
from opdigital.web import page_or_404

CODE_FIELD = "codigo"
_RECEIPT_ENDPOINTS = frozenset({"board.receipt_lookup", "board.receipt", "board.old_receipt_link"})


def _lookup_limit() -> str:
    return current_app.config["RECEIPT_LOOKUP_LIMIT_PER_IP"]


@bp.context_processor
def inject_display_helpers() -> dict:
    # The same date helpers as the public pages (public/_macros.html's time_tag needs them).
    return {"when": display.when, "iso": display.iso, "day": display.day, "hour": display.hour}


@bp.after_request
def protect_receipt_pages(response):
    # Also on 404, 422 and 429 answers: a typed code may be echoed in the form.
    if request.endpoint in _RECEIPT_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        # No Referer from here at all (stricter than the site's same-origin): an old link's
        # URL holds a code, and access logs record the Referer of the request it leads to.
        response.headers["Referrer-Policy"] = "no-referrer"
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
        "min_batch": board.min_batch(),
        "max_delay_minutes": max(1, round(board.max_delay().total_seconds() / 60)),
        "max_delay_seconds": int(board.max_delay().total_seconds()),
    }


@bp.get("/ciclos/<slug>/quadro")
def board_page(slug: str):
    """The board's head, what it is for, how sealing works, and the receipt lookup form."""
    cycle = page_or_404(public_cycle, slug)
    return render_template(
        "board/board.html",
        cycle=cycle,
        head=board.head_of(cycle),
        head_url=url_for("api.board_head", slug=cycle.slug, _external=True),
        **_board_settings(),
    )


def _lookup_page(cycle: Cycle, *, error: str | None = None, status: int = 200):
    page = render_template("board/lookup.html", cycle=cycle, error=error, field=CODE_FIELD)
    return page, status


@bp.get("/ciclos/<slug>/comprovante")
def receipt_lookup(slug: str):
    """The lookup form, where the receipt's QR code leads (with the code after "#")."""
    cycle = page_or_404(public_cycle, slug)
    if CODE_FIELD in request.args:  # the old GET form, from a page cached before the change
        return _code_left_out(cycle)
    return _lookup_page(cycle)


@bp.post("/ciclos/<slug>/comprovante")
@limiter.limit(_lookup_limit)
def receipt(slug: str):
    """A receipt's board entry and choices; waiting to be sealed; or a friendly 404."""
    cycle = page_or_404(public_cycle, slug)
    typed = request.form.get(CODE_FIELD, "")
    if not normalise_receipt(typed):
        return _lookup_page(cycle, error=_("Type the receipt code to look it up."), status=422)
    try:
        if len(typed) > MAX_CODE_CHARS:
            raise NotFound(_("No ballot with this receipt code in this cycle."))
        found = board.find_receipt(cycle, typed)
    except NotFound as e:
        page = render_template(
            "board/receipt_unknown.html",
            cycle=cycle,
            message=str(e.message),
            code=typed[:MAX_CODE_CHARS],
        )
        return page, 404
    return render_template(
        "board/receipt.html",
        cycle=cycle,
        code=display_code(typed),
        found=found,
        choices=choices_of(cycle, found.choices),
        board_url=url_for("board.board_page", slug=cycle.slug),
        **_board_settings(),
    )


@bp.get("/ciclos/<slug>/comprovante/<code>")
def old_receipt_link(slug: str, code: str):
    """Old receipt links (and QR codes printed before codes left URLs): no lookup.

    This request's URL is in the access log already; nothing can undo that. Sent on to the
    lookup form with a note, so the code leaves the address bar, and no link on the page (the
    language switch's `next`, a Referer) repeats it.
    """
    return _code_left_out(page_or_404(public_cycle, slug))


def _code_left_out(cycle: Cycle):
    flash(
        _(
            "Receipt codes no longer go in page addresses, where they could be recorded. "
            "Type your code below to look it up."
        ),
        "warning",
    )
    return redirect(url_for("board.receipt_lookup", slug=cycle.slug), code=303)
