"""The maps: a cycle's proposals, its results and every work, each with the same information
as a list beside it and a server-drawn outline for pages without JavaScript.

`bp` lives here; the route modules import `bp` and none of each other, and are imported at the
bottom so `bp` has every route once the package is loaded.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("maps", __name__)

# The route modules register on `bp` (imported below as they are added).
from opdigital.geo.views import cycle_maps, template_helpers, works_map  # noqa: E402, F401
