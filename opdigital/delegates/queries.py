"""Reads of the delegate roll that other blueprints share (the public cycle page)."""

from __future__ import annotations

import sqlalchemy as sa

from opdigital.cycles.models import Cycle
from opdigital.delegates.models import Delegate, DelegateRole
from opdigital.extensions import db
from opdigital.regions.models import Region


def comforca_by_region(cycle: Cycle) -> list[tuple[Region, list[str]]]:
    """The Comforça members' names per region (public: name and region only)."""
    query = (
        sa.select(Region, Delegate.name)
        .join(Delegate, Delegate.region_id == Region.id)
        .where(Delegate.cycle_id == cycle.id, Delegate.role == DelegateRole.COMFORCA.value)
        .order_by(Region.name, Delegate.name)
    )
    grouped: dict[int, tuple[Region, list[str]]] = {}
    for region, name in db.session.execute(query):
        grouped.setdefault(region.id, (region, []))[1].append(name)
    return list(grouped.values())
