"""Small builders for test data. Each commits, so the object is in the database as in real use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from types import SimpleNamespace

from opdigital.accounts.models import User
from opdigital.accounts.services import hash_password
from opdigital.cycles.models import Cycle, Event, Phase
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalHistory
from opdigital.regions.models import Region, School

_seq = count(1)
PASSWORD = "correct horse battery"
# Hashing with argon2 is slow on purpose; tests share one hash of PASSWORD.
_PASSWORD_HASH = None


def _password_hash() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


def region(**overrides) -> Region:
    n = next(_seq)
    values = {
        "slug": f"regiao-{n}",
        "name": f"Região {n}",
        "population": 100_000 + n,
        "need_index": 1.0,
    }
    obj = Region(**(values | overrides))
    db.session.add(obj)
    db.session.commit()
    return obj


def school(region_obj: Region | None = None, **overrides) -> School:
    n = next(_seq)
    region_obj = region_obj or region()
    obj = School(
        **(
            {"slug": f"escola-{n}", "name": f"Escola Municipal {n}", "region": region_obj}
            | overrides
        )
    )
    db.session.add(obj)
    db.session.commit()
    return obj


def cycle(*, phases: list[tuple[str, datetime, datetime]] | None = None, **overrides) -> Cycle:
    """A cycle; `phases` is a list of (kind, starts_at, ends_at)."""
    n = next(_seq)
    values = {
        "slug": f"ciclo-{n}",
        "kind": "op-digital",
        "title": f"OP Digital {n}",
        "edition": 2026,
        "total_budget_cents": 50_000_000_00,
        "state": "draft",
        # A rule every ballot can satisfy, so the freeze only fails where a test wants it to.
        "ballot_rule": "one-city-wide",
    }
    obj = Cycle(**(values | overrides))
    for position, (kind, starts_at, ends_at) in enumerate(phases or []):
        obj.phases.append(
            Phase(
                kind=kind,
                name=kind.title(),
                position=position,
                starts_at=starts_at,
                ends_at=ends_at,
            )
        )
    db.session.add(obj)
    db.session.commit()
    return obj


def event(cycle_obj: Cycle, **overrides) -> Event:
    start = overrides.pop("starts_at", datetime(2026, 12, 5, 12, tzinfo=UTC))
    values = {
        "kind": "assembly",
        "title": "Assembleia",
        "starts_at": start,
        "ends_at": start + timedelta(hours=3),
        "place": "Escola Estadual",
    }
    obj = Event(cycle=cycle_obj, **(values | overrides))
    db.session.add(obj)
    db.session.commit()
    return obj


def proposal(cycle_obj: Cycle, **overrides) -> Proposal:
    n = next(_seq)
    values = {
        "code": f"T{n:05d}",
        "title": f"Reforma da praça {n}",
        "description": "Reforma completa da praça com iluminação e acessibilidade.",
        "estimated_cost_cents": 1_000_000_00,
        "status": "submitted",
        "origin": "citizen",
    }
    obj = Proposal(cycle=cycle_obj, **(values | overrides))
    obj.history.append(ProposalHistory(to_status=obj.status))
    db.session.add(obj)
    db.session.commit()
    return obj


def staff_per_role(app, *, disabled: bool = False) -> dict[str, SimpleNamespace]:
    """One account per staff role (and a disabled coordinator if asked), as plain values (id,
    email, role) usable outside the app context; keyed by role, and "disabled"."""
    with app.app_context():
        people = {role: user(role) for role in ("admin", "coordinator", "auditor")}
        if disabled:
            people["disabled"] = user("coordinator", active=False)
        return {
            key: SimpleNamespace(id=u.id, email=u.email, role=u.role) for key, u in people.items()
        }


def user(role: str = "coordinator", **overrides) -> User:
    n = next(_seq)
    obj = User(
        **(
            {
                "email": f"{role}{n}@pbh.gov.br",
                "name": f"{role.title()} {n}",
                "role": role,
                "password_hash": _password_hash(),
            }
            | overrides
        )
    )
    db.session.add(obj)
    db.session.commit()
    return obj
