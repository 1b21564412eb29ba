"""`GET /healthz` for load balancers: is this instance able to reach PostgreSQL and Redis?

It also warns (without failing) when PostgreSQL is set to write statements with their values
into its log for this app's connections: the cast is one statement carrying the voter key, the
receipt hash and the choices together, so such a log line would link a voter to a ballot.
The checks are in `checks`, the route in `routes`.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)

# The route module registers on `bp`.
from opdigital.health import routes  # noqa: E402, F401
