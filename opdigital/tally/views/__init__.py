"""Public results of a cycle: the page, the CSV and Pabulib downloads (after publication only).

What they show is assembled in `tally/results.py` from the published, signed result.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("results", __name__)

# The route module registers on `bp`.
from opdigital.tally.views import routes  # noqa: E402, F401
