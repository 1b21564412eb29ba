"""The works on the web: the public "Obras do OP" list and feeds, staff screens for a work's
execution evidence, and the Comforça's reports and their moderation.

`bp` lives here; the route modules import `bp` and none of each other, and are imported at the
bottom so `bp` has every route once the package is loaded. Each route checks its own roles
(the blueprint mixes public and staff pages).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("works", __name__)

# The route modules register on `bp` (imported below as they are added).
from opdigital.works.views import catalogue, evidence, photos, reports  # noqa: E402, F401
