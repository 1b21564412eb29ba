"""JSON API v1: open data here; ballots.py takes ballots (all documented in `openapi.json`).

Draft cycles are never public: every cycle endpoint answers 404 for them, as for unknown slugs.
Errors are `{"error": {"code", "message"}}` through `opdigital.errors`.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The route modules register on `bp`; none imports another (shared helpers: serializers,
# json_body; the direct cast layer in direct_cast.py calls into ballots.py from outside Flask).
from opdigital.api import (  # noqa: E402, F401
    ballots,
    board,
    geo,
    open_data,
    tally,
    work_detail,
    works,
)
