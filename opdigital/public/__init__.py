"""The public blueprint: pages citizens read, and the proposal form.

Routes live in small modules by page (home, cycle_pages, proposal_pages, submit, unsubscribe...),
each importing `bp` from here and none of its siblings; `loaders` holds the queries only these
pages need.
"""

from __future__ import annotations

from flask import Blueprint

from opdigital import display

bp = Blueprint("public", __name__)


@bp.context_processor
def inject_display_helpers() -> dict:
    # Scoped to this blueprint's pages, so the names cannot clash with other features' helpers.
    return {
        "when": display.when,
        "day": display.day,
        "hour": display.hour,
        "iso": display.iso,
        "window_start": display.window_start,
        "window_end": display.window_end,
        "paragraphs": display.paragraphs,
    }


# The route modules register on `bp`.
from opdigital.public import (  # noqa: E402, F401
    cycle_pages,
    home,
    phone_help,
    privacy,
    proposal_pages,
    submit,
    unsubscribe,
)
