"""Builders and browser steps shared by the voting web tests (no tests here).

Requests are made without an application context pushed: the app caches the voting point of a
request on `g`, which a shared context would carry from one request to the next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from opdigital.clock import now
from opdigital.cycles.models import RegionBudget
from opdigital.extensions import db
from opdigital.registry.keys import voter_key
from opdigital.registry.models import RegistryEntry
from tests.support import factories
from tests.support.client import csrf_token, english_client  # noqa: F401 - re-exported

BIRTH = date(1980, 5, 17)
RECEIPT = re.compile(r"\b[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\b")
CSRF_VALUE = re.compile(r'name="csrf_token"[^>]*value="[^"]+"')


def titulos(n: int) -> list[str]:
    """`n` distinct valid títulos from an independent generator."""
    from validate_docbr import TituloEleitoral

    generator, seen = TituloEleitoral(), set()
    while len(seen) < n:
        seen.add(generator.generate())
    return sorted(seen)


@dataclass
class World:
    slug: str
    cycle_id: int
    regions: list[int]
    region_names: list[str]
    # proposals[r] = ids of region r's proposals, in creation order
    proposals: list[list[int]]
    titles: dict[int, str]
    voters: list[str]
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def all_ids(self) -> list[int]:
        return [pid for ids in self.proposals for pid in ids]


def build_world(
    app,
    *,
    rule: str = "one-per-region",
    params: dict | None = None,
    regions: int = 2,
    per_region: int = 2,
    cost_cents: int = 30_00,
    voters: int = 4,
    shuffle: bool = False,
    show_totals: bool = False,
    budget_cents: int = 50_000_000_00,
    region_budget_cents: int | None = None,
    opens=None,
    closes=None,
    state: str = "voting",
    slug: str | None = None,
) -> World:
    """An open voting cycle with proposals on its ballot and a roll of voters."""
    with app.app_context():
        start = opens or now() - timedelta(days=1)
        end = closes or start + timedelta(days=10)
        region_objs = [factories.region() for _ in range(regions)]
        values = {
            "state": state,
            "ballot_rule": rule,
            "ballot_rule_params": params or {},
            "shuffle_ballot": shuffle,
            "show_running_totals": show_totals,
            "total_budget_cents": budget_cents,
            "phases": [("voting", start, end)],
        }
        if slug:
            values["slug"] = slug
        cycle = factories.cycle(**values)
        if region_budget_cents is not None:
            for r in region_objs:
                db.session.add(
                    RegionBudget(
                        cycle_id=cycle.id, region_id=r.id, amount_cents=region_budget_cents
                    )
                )
            db.session.commit()
        proposals, titles = [], {}
        for r in region_objs:
            ids = []
            for _ in range(per_region):
                p = factories.proposal(
                    cycle, status="on_ballot", region_id=r.id, estimated_cost_cents=cost_cents
                )
                ids.append(p.id)
                titles[p.id] = p.title
            proposals.append(ids)
        numbers = titulos(voters)
        pepper = app.config["VOTER_KEY_PEPPER"]
        keys = {t: voter_key(t, pepper) for t in numbers}
        db.session.add_all(
            RegistryEntry(
                scope="city",
                voter_key=keys[t],
                birth_date=BIRTH,
                region_id=region_objs[i % regions].id,
            )
            for i, t in enumerate(numbers)
        )
        db.session.commit()
        return World(
            slug=cycle.slug,
            cycle_id=cycle.id,
            regions=[r.id for r in region_objs],
            region_names=[r.name for r in region_objs],
            proposals=proposals,
            titles=titles,
            voters=numbers,
            keys=keys,
        )


def url(world: World, step: str = "") -> str:
    return f"/ciclos/{world.slug}/votar" + (f"/{step}" if step else "")


def identify(client, world: World, titulo: str, birth: date = BIRTH, **kwargs):
    """POST the identification form (with a fresh CSRF token)."""
    token = csrf_token(client, url(world))
    data = {"csrf_token": token, "titulo": titulo, "birth_date": birth.isoformat()}
    return client.post(url(world), data=data, **kwargs)


def post_ballot(client, world: World, choices: dict | list, action: str = "review", **kwargs):
    """POST the ballot; `choices` is a list (name "choice") or a dict of field -> values."""
    token = csrf_token(client, url(world, "cedula"))
    data = {"csrf_token": token, "action": action}
    if isinstance(choices, dict):
        data |= choices
    else:
        data["choice"] = [str(c) for c in choices]
    return client.post(url(world, "cedula"), data=data, **kwargs)


def region_field(region_id: int) -> str:
    return f"choice-region-{region_id}"


def confirm(client, world: World, **kwargs):
    token = csrf_token(client, url(world, "revisao"))
    return client.post(url(world, "revisao"), data={"csrf_token": token}, **kwargs)


def vote(client, world: World, titulo: str, choices: dict | list, **kwargs):
    """Identify, fill the ballot, confirm; returns the confirm response."""
    response = identify(client, world, titulo, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)
    response = post_ballot(client, world, choices, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)
    return confirm(client, world, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def without_csrf(html: str) -> str:
    return CSRF_VALUE.sub("", html)
