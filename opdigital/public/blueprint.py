"""The public blueprint: pages citizens read, and the proposal form."""

from __future__ import annotations

from flask import Blueprint

from opdigital.public import display

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
