"""Shared by the voting tests: títulos, roll entries, an open cycle with a ballot, API calls.

No tests here. Every builder commits (through `tests.support.factories` or directly), as in
real use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from flask import current_app

from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.regions.models import Region, School
from opdigital.registry import titulo as titulo_rules
from opdigital.registry.keys import school_number, voter_key
from opdigital.registry.models import CITY_SCOPE, RegistryEntry
from opdigital.voting.limits import VOTING_POINT_TOKEN_HEADER, token_hash
from opdigital.voting.models import VotingPoint
from tests.support import factories

BIRTH = date(1980, 5, 17)
MG = "02"  # Minas Gerais' state code: Belo Horizonte's voters
# Costs of the default ballot's five proposals (centavos), and its knapsack rule.
COSTS = (1_000_000_00, 1_000_000_00, 1_000_000_00, 1_000_000_00, 2_000_000_00)
BUDGET = 3_500_000_00
RULE_PARAMS = {"min_choices": 2, "max_choices": 3}
# Fixed voting phase for the phase-edge tests: 2026-11-01 08:00 to 2026-11-15 17:00 in BH.
VOTING_OPENS = datetime(2026, 11, 1, 11, tzinfo=UTC)
VOTING_CLOSES = datetime(2026, 11, 15, 20, tzinfo=UTC)


def make_titulo(n: int, state: str = MG) -> str:
    """The `n`-th valid título of a state (check digits by the Resolução TSE's rule)."""
    sequential = f"{n:08d}"
    number = sequential + state + titulo_rules.check_suffix(sequential, state)
    assert titulo_rules.is_valid(number), number
    return number


def pretty(number: str) -> str:
    """A título as people write it: '1234 5678 0201'."""
    return f"{number[:4]} {number[4:8]} {number[8:]}"


def key_of(number: str) -> str:
    """The voter key the app derives from a normalised identifier."""
    return voter_key(number, current_app.config["VOTER_KEY_PEPPER"])


def register(
    number: str,
    birth_date: date = BIRTH,
    *,
    region: Region | None = None,
    scope: str = CITY_SCOPE,
) -> RegistryEntry:
    """Put a título on the roll (inserted directly, as the importer would store it)."""
    entry = RegistryEntry(
        scope=scope,
        voter_key=key_of(number),
        birth_date=birth_date,
        region_id=region.id if region else None,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def register_pupil(
    school: School, enrolment: str, birth_date: date, *, scope: str
) -> RegistryEntry:
    """Put an OPCA pupil on a school roll."""
    entry = RegistryEntry(
        scope=scope,
        voter_key=key_of(school_number(school.slug, enrolment)),
        birth_date=birth_date,
        region_id=school.region_id,
        school_id=school.id,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def voting_cycle(
    *,
    opens: datetime | None = None,
    closes: datetime | None = None,
    costs: tuple[int, ...] = COSTS,
    region: Region | None = None,
    **overrides,
) -> SimpleNamespace:
    """A cycle in the voting state, its voting phase around now (or as given), and proposals
    on the ballot under a knapsack rule (2 to 3 choices within BUDGET by default)."""
    opens = opens or now() - timedelta(days=1)
    closes = closes or now() + timedelta(days=10)
    values = {
        "state": "voting",
        "total_budget_cents": BUDGET,
        "ballot_rule": "knapsack",
        "ballot_rule_params": dict(RULE_PARAMS),
        "counting_rule": "greedy",
        "phases": [("review", opens - timedelta(days=20), opens), ("voting", opens, closes)],
    }
    cycle = factories.cycle(**(values | overrides))
    proposals = [
        factories.proposal(cycle, status="on_ballot", estimated_cost_cents=cost, region=region)
        for cost in costs
    ]
    return SimpleNamespace(
        cycle=cycle, slug=cycle.slug, proposals=proposals, ids=[p.id for p in proposals]
    )


def two_voters(
    first: int, *, other_birth: date = BIRTH, other_in_region: bool = True
) -> SimpleNamespace:
    """`voting_cycle()` with the Centro-Sul region and two títulos on the roll: `voter` (the
    `first`-th título) in that region, and `other` (the next one) born on `other_birth`, in the
    region or not."""
    region = factories.region(slug="centro-sul", name="Centro-Sul")
    world = voting_cycle()
    world.region = region
    world.voter, world.other = make_titulo(first), make_titulo(first + 1)
    register(world.voter, region=region)
    register(world.other, other_birth, region=region if other_in_region else None)
    return world


def voting_point(token: str, *, name: str = "Posto de votação", region=None) -> VotingPoint:
    """A registered voting point identified by its device token."""
    point = VotingPoint(
        name=name, region_id=region.id if region else None, device_token_hash=token_hash(token)
    )
    db.session.add(point)
    db.session.commit()
    return point


def body(number: str, choices, birth_date: date | str = BIRTH) -> dict:
    """A ballot request body for a título voter."""
    day = birth_date if isinstance(birth_date, str) else birth_date.isoformat()
    return {"credentials": {"titulo": number, "birth_date": day}, "choices": list(choices)}


def post_ballot(client, slug: str, payload, *, token: str | None = None, **kwargs):
    """POST a ballot as JSON; `token` sends a voting point's device token."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers[VOTING_POINT_TOKEN_HEADER] = token
    # Each request starts by forgetting the previous one's client, even in the test's app
    # context that outlives requests (web.forget_previous_request).
    return client.post(f"/api/v1/cycles/{slug}/ballots", json=payload, headers=headers, **kwargs)


def ballot_path() -> str:
    """The OpenAPI template of the casting endpoint."""
    return "/api/v1/cycles/{slug}/ballots"


def reload(cycle: Cycle) -> Cycle:
    """The cycle as the database has it now."""
    db.session.expire_all()
    return db.session.get(Cycle, cycle.id)


def wrong_check_digit(number: str) -> str:
    """`number` with a wrong last check digit (SP and MG accept two values; avoid both)."""
    from opdigital.registry import titulo

    return next(
        number[:11] + digit
        for digit in "0123456789"
        if digit != number[11] and not titulo.is_valid(number[:11] + digit)
    )


def cast_all(client, world, ballots, first: int = 700) -> list[str]:
    """One newly registered voter per ballot casts it through the API; their receipt codes."""
    receipts = []
    for n, choices in enumerate(ballots):
        number = make_titulo(first + n)
        register(number)
        response = post_ballot(client, world.slug, body(number, choices))
        assert response.status_code == 201, response.get_json()
        receipts.append(response.get_json()["receipt"])
    return receipts
