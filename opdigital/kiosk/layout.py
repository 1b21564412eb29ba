"""What a page needs to render in kiosk mode: the layout and the kiosk's point and timeouts.

The voting flow's pages and the kiosk's own pages extend `voting_layout`: the site's
`base.html`, or `kiosk/layout.html` when the request comes from an enrolled kiosk (no site
navigation, large targets, the idle timeout). A page picks its timeout by setting
`kiosk_page` ("step", "ballot", "receipt" or "notice"; kiosk/timeouts.py) before `extends`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from opdigital.extensions import db
from opdigital.kiosk import timeouts
from opdigital.voting.models import VotingPoint

log = logging.getLogger(__name__)

SITE_LAYOUT = "base.html"
KIOSK_LAYOUT = "kiosk/layout.html"


@dataclass(frozen=True)
class KioskScreen:
    point_name: str
    timeouts: dict[str, timeouts.Timeout] = field(default_factory=lambda: dict(timeouts.BY_PAGE))


def layout_context(client_of_request) -> dict:
    """`voting_layout` and `kiosk` (None outside kiosk mode) for templates.

    `client_of_request`: a callable giving the request's `voting.limits.Client`. A database
    that cannot answer (an error page being rendered) means the site's layout.
    """
    try:
        client = client_of_request()
        point = db.session.get(VotingPoint, client.voting_point_id) if client.is_kiosk else None
    except SQLAlchemyError:
        log.warning("Kiosk layout unavailable: the database did not answer")
        point = None
    if point is None:
        return {"voting_layout": SITE_LAYOUT, "kiosk": None}
    return {"voting_layout": KIOSK_LAYOUT, "kiosk": KioskScreen(point_name=point.name)}
