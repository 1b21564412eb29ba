"""Staff sign-in and sign-out, and the admins' account management screens."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__)

# The route module registers on `bp`.
from opdigital.accounts.views import routes  # noqa: E402, F401
