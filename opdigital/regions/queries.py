"""Looking up regions and schools by the slugs that filters and forms carry."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.errors import NotFound
from opdigital.extensions import db
from opdigital.regions.models import Region, School


def region_by_slug(slug: str | None) -> Region | None:
    """None when no region was asked for (no slug); NotFound for a slug that names none."""
    missing = _l("There is no region called %(slug)s.", slug=slug)
    return _by_slug(Region, slug, NotFound(missing, code="region_not_found"))


def school_by_slug(slug: str | None) -> School | None:
    """None when no school was asked for (no slug); NotFound for a slug that names none."""
    missing = _l("There is no school called %(slug)s.", slug=slug)
    return _by_slug(School, slug, NotFound(missing, code="school_not_found"))


def _by_slug(model, slug: str | None, missing: NotFound):
    if not slug:
        return None
    found = db.session.scalar(sa.select(model).where(model.slug == slug))
    if found is None:
        raise missing
    return found


def all_regions(*options) -> list[Region]:
    """Every region, by name; `options` load more (loader options of SQLAlchemy)."""
    return list(db.session.scalars(sa.select(Region).options(*options).order_by(Region.name)))


def all_schools() -> list[School]:
    """Every school, by name."""
    return list(db.session.scalars(sa.select(School).order_by(School.name)))
