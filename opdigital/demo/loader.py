"""`opdigital demo`: load the demo data, idempotently.

Everything is found again by its natural key (account e-mail, region and school slug, cycle
slug). What is already there is left untouched, so running the command twice changes nothing:
a cycle that exists is reported as "already present" even if a coordinator has changed it since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from opdigital.accounts.models import User
from opdigital.accounts.services import NewUser, create_user, normalise_email
from opdigital.audit import services as audit
from opdigital.clock import today_in_city
from opdigital.demo import common
from opdigital.demo.digital import (
    DIGITAL_SLUG,
    PAST_DIGITAL_SLUG,
    build_digital_2024,
    build_digital_2026,
)
from opdigital.demo.past_votes import ensure_demo_signing_key
from opdigital.demo.places import load_boundaries, place_proposals
from opdigital.demo.regional import OPCA_SLUG, REGIONAL_SLUG, build_opca, build_regional
from opdigital.demo.regions import REGIONS, SCHOOLS, need_index
from opdigital.demo.voters import load_demo_voters
from opdigital.demo.works import load_works_evidence
from opdigital.extensions import db
from opdigital.regions.models import Region, School

# Only these settings may receive the demo data (opdigital/settings.py, CONFIG_NAME).
DEMO_CONFIGS = frozenset({"development", "testing"})


class DemoRefused(RuntimeError):
    """The demo data was asked for where it must never go (a production database)."""


def ensure_demo_allowed(config) -> None:
    """Refuse unless the app runs with development or testing settings.

    The demo creates staff accounts whose passwords are published in the README, and signs a
    made-up tally with the configured signing key: in production that would open the staff
    screens to anyone and put the city's signature on a fake result.
    """
    name = config.get("CONFIG_NAME")
    if name not in DEMO_CONFIGS:
        raise DemoRefused(
            f"Refusing to load the demo data with OPDIGITAL_CONFIG={name}: its "
            "staff accounts have published passwords and its past vote would be signed with "
            "this installation's tally key. Load it only with OPDIGITAL_CONFIG=development, "
            "into a database of its own."
        )


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    name: str
    password: str


# DEMO ONLY: fixed, published passwords so a newcomer can sign in after `make run`.
# Never load the demo data into a production database.
ACCOUNTS = [
    DemoAccount("admin@demo.opdigital.local", "admin", "Administração (demo)", "demo-admin-2026"),
    DemoAccount(
        "coordenacao@demo.opdigital.local",
        "coordinator",
        "Coordenação do OP (demo)",
        "demo-coordenacao-2026",
    ),
    DemoAccount(
        "auditoria@demo.opdigital.local", "auditor", "Auditoria (demo)", "demo-auditoria-2026"
    ),
    DemoAccount(
        "encarregado@demo.opdigital.local",
        "privacy_officer",
        "Encarregado de dados (demo)",
        "demo-encarregado-2026",
    ),
]
ADMIN_EMAIL = ACCOUNTS[0].email

# Built in this order; each builder returns a one-line summary of what it made.
CYCLES: list[tuple[str, Callable]] = [
    (PAST_DIGITAL_SLUG, build_digital_2024),
    (DIGITAL_SLUG, build_digital_2026),
    (REGIONAL_SLUG, build_regional),
    (OPCA_SLUG, build_opca),
]


def _find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def _load_accounts() -> list[str]:
    lines = []
    for account in ACCOUNTS:
        if _find_user(account.email) is not None:
            lines.append(f"  {account.role:<12} {account.email}: already present (unchanged)")
            continue
        create_user(NewUser(account.email, account.password, account.role, account.name))
        lines.append(f"  {account.role:<12} {account.email}  password: {account.password}")
    return lines


def _load_regions(actor: User | None) -> str:
    existing = set(db.session.scalars(sa.select(Region.slug)))
    created = 0
    for demo in REGIONS:
        if demo.slug in existing:
            continue
        region = Region(
            slug=demo.slug,
            name=demo.name,
            population=demo.population,
            need_index=need_index(demo),
        )
        db.session.add(region)
        db.session.flush()
        audit.record(
            actor,
            "region.create",
            region,
            after={"name": region.name, "population": region.population},
        )
        created += 1
    db.session.commit()
    return f"Regions: {created} created, {len(REGIONS) - created} already present."


def _load_schools(actor: User | None) -> str:
    existing = set(db.session.scalars(sa.select(School.slug)))
    regions = common.regions_by_slug()
    created = 0
    for demo in SCHOOLS:
        if demo.slug in existing:
            continue
        school = School(
            slug=demo.slug,
            name=demo.name,
            region_id=regions[demo.region_slug].id,
            address=demo.address,
        )
        db.session.add(school)
        db.session.flush()
        audit.record(
            actor, "school.create", school, after={"name": school.name, "region": demo.region_slug}
        )
        created += 1
    db.session.commit()
    return f"Schools: {created} created, {len(SCHOOLS) - created} already present."


def load_demo() -> list[str]:
    """Load whatever part of the demo data is missing; return the lines to print."""
    ensure_demo_allowed(current_app.config)
    today = today_in_city()
    lines = ["Demo accounts (DEMO ONLY: these passwords are public, never use them in production):"]
    lines += _load_accounts()
    actor = _find_user(ADMIN_EMAIL)
    lines.append(ensure_demo_signing_key())
    lines.append(_load_regions(actor))
    lines.append(load_boundaries(actor))
    lines.append(_load_schools(actor))
    for slug, build in CYCLES:
        if common.cycle_exists(slug):
            lines.append(f"Cycle {slug}: already present (left untouched).")
        else:
            summary = build(actor, today)
            lines.append(f"Cycle {slug}: created; {summary}; {place_proposals(slug, actor)}.")
    lines.append(load_works_evidence(PAST_DIGITAL_SLUG, actor, today))
    lines += load_demo_voters(actor)
    return lines
