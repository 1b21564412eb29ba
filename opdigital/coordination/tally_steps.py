"""The tally package's staff download.

Staff (coordinators, admins) may download the package as soon as it exists; the public only once
it is published (`/api/v1/.../tally.zip`).
"""

from __future__ import annotations

from opdigital.coordination import bp
from opdigital.coordination.common import load_cycle
from opdigital.tally import downloads
from opdigital.tally import services as tallies


@bp.get("/cycles/<slug>/tally.zip")
def tally_package(slug: str):
    """The cycle's signed package for staff, published or not (404 before the tally)."""
    cycle = load_cycle(slug)
    return downloads.private_package_download(tallies.tally_of(cycle), cycle.slug)
