"""The audit log for admins and auditors: a filtered, paginated page and CSV/JSON downloads;
and every tally package with the signing key, so auditors can verify a tally themselves.

Read-only by design: there are no routes that change entries, and the database refuses it too.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

# The route module registers on `bp`.
from opdigital.audit.views import routes  # noqa: E402, F401
