"""The ballot board in the JSON API: the head observers record, and receipt lookups."""

from __future__ import annotations

from flask import current_app, jsonify

from opdigital.api.serializers import iso
from opdigital.api.views import _public_cycle, bp
from opdigital.board import services as board
from opdigital.extensions import limiter


def _lookup_limit() -> str:
    return current_app.config["RECEIPT_LOOKUP_LIMIT_PER_IP"]


def head_json(head: board.Head) -> dict:
    return {
        "seq": head.seq,
        "hash": head.hash,
        "sealed_at": iso(head.sealed_at),
        "pending": head.pending,
    }


@bp.get("/cycles/<slug>/board/head")
def board_head(slug: str):
    """The board's current sequence number and head hash (record them to check the tally)."""
    cycle = _public_cycle(slug)
    head = board.head_of(cycle)
    body = {"cycle": slug} | head_json(head)
    body["batch_size"] = board.batch_size()
    body["max_delay_seconds"] = int(board.max_delay().total_seconds())
    return jsonify(body)


@bp.get("/cycles/<slug>/receipts/<code>")
@limiter.limit(_lookup_limit)
def receipt(slug: str, code: str):
    """A receipt's board entry and the choices recorded; 404 for a code not in this cycle."""
    cycle = _public_cycle(slug)
    found = board.find_receipt(cycle, code)
    body = {
        "cycle": slug,
        "receipt_hash": found.receipt_hash,
        "status": "sealed" if found.sealed else "pending",
        "choices": found.choices,
        "entry": None,
        "sealed_by": iso(found.sealed_by),
        "board_head": head_json(found.head),
    }
    if found.entry is not None:
        body["entry"] = {
            "seq": found.entry.seq,
            "prev_hash": found.entry.prev_hash,
            "entry_hash": found.entry.entry_hash,
        }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
