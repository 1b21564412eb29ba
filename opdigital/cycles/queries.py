"""Reading cycles as citizens may see them: drafts are never public.

The API and the public pages ask here, so the rule is written once. A draft is answered exactly
like an unknown slug: its existence must not leak (a 404 either way).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.errors import NotFound
from opdigital.extensions import db

# The condition a public cycle meets, for queries that join cycles (events, proposals).
IS_PUBLIC = Cycle.state != CycleState.DRAFT.value


def public_cycle(slug: str, *options) -> Cycle:
    """The public cycle called `slug`, with its phases; NotFound for drafts and unknown slugs.

    Phases are joined in the same query: nearly every caller shows or checks them (timelines,
    voting windows), and the cast asks for the cycle on every vote it does not find cached.
    `options` load more (loader options of SQLAlchemy).
    """
    cycle = (
        db.session.scalars(
            sa.select(Cycle)
            .where(Cycle.slug == slug, IS_PUBLIC)
            .options(joinedload(Cycle.phases), *options)
        )
        .unique()
        .first()
    )
    if cycle is None:
        raise NotFound(
            _l("There is no public cycle called %(slug)s.", slug=slug), code="cycle_not_found"
        )
    return cycle


def public_cycles(*options) -> list[Cycle]:
    """Every public cycle, the latest edition first, then by title."""
    return list(
        db.session.scalars(
            sa.select(Cycle)
            .where(IS_PUBLIC)
            .options(*options)
            .order_by(Cycle.edition.desc(), Cycle.title, Cycle.id)
        )
    )
