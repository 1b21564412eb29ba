"""The ballot board in the JSON API: the head observers record, and receipt lookups."""

from __future__ import annotations

from flask import after_this_request, current_app, jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from opdigital.api import bp
from opdigital.api.json_body import decode_json, no_store, read_body
from opdigital.api.serializers import iso
from opdigital.board import services as board
from opdigital.cycles.queries import public_cycle
from opdigital.errors import DomainError
from opdigital.extensions import limiter
from opdigital.voting.receipts import MAX_CODE_CHARS


def _lookup_limit() -> str:
    return current_app.config["RECEIPT_LOOKUP_LIMIT_PER_IP"]


def _head_limit() -> str:
    return current_app.config["BOARD_HEAD_LIMIT_PER_IP"]


# Observers poll the head; a proxy or cache in front may answer them for this long.
HEAD_MAX_AGE_SECONDS = 5


def head_json(head: board.Head) -> dict:
    """The public head: nothing finer than a batch (no count of waiting ballots, whose changes
    would time each vote; `sealed_at` moves once per batch)."""
    return {"seq": head.seq, "hash": head.hash, "sealed_at": iso(head.sealed_at)}


@bp.get("/cycles/<slug>/board/head")
@limiter.limit(_head_limit)
def board_head(slug: str):
    """The board's current sequence number and head hash (record them to check the tally).

    A plain read: it seals nothing and locks no row, so polling it cannot hold up a sealing
    (the close and the tally wait for the head row's lock).
    """
    cycle = public_cycle(slug)
    body = {"cycle": slug} | head_json(board.head_of(cycle))
    body["batch_size"] = board.batch_size()
    body["min_batch"] = board.min_batch()
    body["max_delay_seconds"] = int(board.max_delay().total_seconds())
    response = jsonify(body)
    response.headers["Cache-Control"] = f"public, max-age={HEAD_MAX_AGE_SECONDS}"
    return response


# --- receipt lookups ---------------------------------------------------------------------
# The code shows the voter's choices, so it travels in the body of a POST, never in a URL
# (access logs keep URLs beside the address and the time).

# `{"receipt": "<code>"}` is a few dozen bytes; anything much larger is not a lookup.
MAX_LOOKUP_BODY_BYTES = 1024


class BadLookupRequest(DomainError):
    """The body is not `{"receipt": "<code>"}` (400 bad_request)."""

    status = 400
    code = "bad_request"


class ReceiptCodeInPath(DomainError):
    """The old lookup with the code in the URL (410 gone)."""

    status = 410
    code = "gone"


def _receipt_in_body() -> str:
    raw = read_body(
        MAX_LOOKUP_BODY_BYTES,
        BadLookupRequest,
        wrong_type=_l("Send the lookup as JSON, with the Content-Type application/json."),
        too_large=_l("The request body is too large for a receipt lookup."),
    )
    body = decode_json(raw, BadLookupRequest)
    if not isinstance(body, dict) or set(body) != {"receipt"}:
        raise BadLookupRequest(_('Send {"receipt": "<code>"}, with no other field.'))
    code = body["receipt"]
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
        raise BadLookupRequest(
            _("receipt must be a string of at most %(max)s characters.", max=MAX_CODE_CHARS)
        )
    return code


@bp.post("/cycles/<slug>/receipts")
@limiter.limit(_lookup_limit)
def lookup_receipt(slug: str):
    """A receipt's board entry and the choices recorded; 404 for a code not in this cycle."""
    after_this_request(no_store)  # error answers included
    code = _receipt_in_body()
    cycle = public_cycle(slug)
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
    return jsonify(body)


@bp.get("/cycles/<slug>/receipts/<code>")
def receipt_code_in_path(slug: str, code: str):
    """Gone: a code in the URL lands in access logs. No lookup; the answer says what to do."""
    after_this_request(no_store)
    public_cycle(slug)
    raise ReceiptCodeInPath(
        _(
            "Receipt codes are no longer accepted in the URL, where logs would keep them. "
            'Send POST /api/v1/cycles/%(slug)s/receipts with {"receipt": "<code>"}.',
            slug=slug,
        )
    )
