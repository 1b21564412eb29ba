"""The telephony provider's webhooks: the voice line (`voice.py`) and text messages (`text.py`).

Every request must carry the provider's signature (`signatures.py`); none carries a cookie we
trust, so the blueprint is exempt from CSRF checks (the signature does that job). `bp` lives
here; the route modules import it and none of each other.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("phone", __name__, url_prefix="/telefone")

# The route modules register on `bp` (imported below as they are added).
from opdigital.phone.views import text, voice  # noqa: E402, F401
