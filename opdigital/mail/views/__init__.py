"""The outbox for admins: what was sent, what waits, what failed and why, and "retry now".

Addresses are shown masked (m•••@example.org) and texts not at all: the screen is for
diagnosing delivery, not for reading citizens' mail.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/staff/outbox")

# The route module registers on `bp`.
from opdigital.mail.views import routes  # noqa: E402, F401
