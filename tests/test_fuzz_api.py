"""Schema-based fuzzing of the JSON API with schemathesis, in-process through the Flask app.

Every operation of `opdigital/api/openapi.json` is called with generated requests (valid and
invalid) and each answer goes through schemathesis' default checks: no server error, a status
code, content type, headers and body the document allows for that operation.

Random slugs and títulos would only ever reach the 404 and 403 branches, so the world is seeded
with a cycle in its voting phase (with voters on the roll), a published tallied cycle (board,
receipts, signed package) and a region; the hooks below steer part of the generated requests to
those real slugs, receipt codes and credentials, so the fuzzing reaches the deep code too.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from opdigital.cycles.lifecycle import advance
from opdigital.cycles.states import CycleState
from opdigital.extensions import db
from tests.support import factories
from tests.support import voting as vs

pytestmark = pytest.mark.fuzz

# Rate limits would turn most generated requests into 429s; the fuzz run lifts them.
UNLIMITED = "100000 per minute"
LIMIT_SETTINGS = (
    "VOTE_LIMIT_PER_IP",
    "VOTE_LIMIT_PER_VOTING_POINT",
    "VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL",
    "VOTER_FAILURES_PER_ADDRESS",
    "VOTER_FAILURES_PER_VOTING_POINT",
    "VOTER_FAILURES_PER_CREDENTIAL",
    "RECEIPT_LOOKUP_LIMIT_PER_IP",
)
KIOSK_TOKEN = "fuzz-kiosk-token"
# Voters on the roll of the open cycle; each can vote once, later attempts answer 409.
VOTERS = 40


def published_cycle(client) -> SimpleNamespace:
    """A cycle voted, closed, tallied and published: results, board, receipts and package.

    Needs a signing key (the `signing_key` fixture) and an application context.
    """
    world = vs.voting_cycle()
    receipts = vs.cast_all(client, world, [world.ids[:2], world.ids[1:3], world.ids[2:4]], 900)
    for target in (CycleState.CLOSED, CycleState.TALLIED, CycleState.PUBLISHED):
        advance(world.cycle, target, actor=None)
    world.receipts = receipts
    return world


def _seed(client) -> SimpleNamespace:
    region = factories.region(slug="barreiro", name="Barreiro")
    factories.school(region, slug="escola-barreiro")
    published = published_cycle(client)
    voting = vs.voting_cycle(region=region)
    # One voter casts now, so the open cycle has a receipt and a board head to look up.
    first = vs.make_titulo(1)
    vs.register(first)
    cast = vs.post_ballot(client, voting.slug, vs.body(first, voting.ids[:2]))
    voting.receipts = [cast.get_json()["receipt"]]
    voting.titulos = [vs.make_titulo(10 + n) for n in range(VOTERS)]
    for number in voting.titulos:
        vs.register(number)
    vs.voting_point(KIOSK_TOKEN)
    draft = factories.cycle(slug="rascunho")
    return SimpleNamespace(
        region=region.slug, voting=voting, published=published, draft_slug=draft.slug
    )


SPEC_PATH = Path(__file__).resolve().parent.parent / "opdigital" / "api" / "openapi.json"
# A ballot can match the schema and still be refused as the document says: 400 for credentials
# of the wrong kind for the cycle or an impossible date, 422 `invalid_ballot` when the choices
# break the cycle's rule (too many, over budget). Both are expected answers to valid data.
# The old receipt lookup (the code in the URL) is gone: 410 is its answer to anything valid.
CONFIG = SchemathesisConfig.from_str(
    """
[[operations]]
include-operation-id = "castBallot"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"
]

[[operations]]
include-operation-id = "lookUpReceiptInPath"
checks.positive_data_acceptance.expected-statuses = ["404", "410"]
"""
)
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)
# The seeded world of the running test, read by the hooks when they draw values.
world = SimpleNamespace()


@pytest.fixture
def seeded(app, client, signing_key, settings):
    """Seed the world and lift the rate limits (restored by `settings` afterwards)."""
    settings(**dict.fromkeys(LIMIT_SETTINGS, UNLIMITED))
    with app.app_context():
        world.__dict__.update(_seed(client).__dict__)
        db.session.remove()
    yield world
    world.__dict__.clear()


def _is_seeded() -> bool:
    # Schemathesis draws the documented examples at collection, before any test has seeded.
    return hasattr(world, "voting")


def _slugs() -> list[str]:
    return [world.voting.slug, world.published.slug, world.draft_slug]


def _receipts() -> list[str]:
    return world.voting.receipts + world.published.receipts


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the slugs (and receipt codes) are real ones, so requests get past the 404."""
    if not _is_seeded() or "slug" not in (path_parameters or {}):
        return st.just(path_parameters)
    return st.sampled_from([path_parameters["slug"], *_slugs()]).flatmap(
        lambda slug: _with_code({**path_parameters, "slug": slug})
    )


def _with_code(parameters: dict):
    if "code" not in parameters:
        return st.just(parameters)
    return st.sampled_from([parameters["code"], *_receipts()]).map(
        lambda code: {**parameters, "code": code}
    )


@schema.hook
def flatmap_query(context, query):
    if not _is_seeded() or not query or "region" not in query:
        return st.just(query)
    return st.sampled_from([query["region"], world.region, ""]).map(
        lambda region: {**query, "region": region}
    )


@schema.hook
def flatmap_headers(context, headers):
    """Some ballots come through the registered kiosk, with its higher limit and turnout."""
    if not _is_seeded() or not headers or vs.VOTING_POINT_TOKEN_HEADER not in headers:
        return st.just(headers)
    token = headers[vs.VOTING_POINT_TOKEN_HEADER]
    return st.sampled_from([token, KIOSK_TOKEN]).map(
        lambda value: {**headers, vs.VOTING_POINT_TOKEN_HEADER: value}
    )


LOOKUP_PATH = "/api/v1/cycles/{slug}/receipts"


@schema.hook
def flatmap_body(context, body):
    """Some ballots come from voters on the roll, with choices real, foreign or absurd; some
    receipt lookups ask for real codes, as printed or as people type them."""
    if not _is_seeded():
        return st.just(body)
    if context.operation.path == LOOKUP_PATH:
        typed = st.sampled_from(_receipts()).flatmap(
            lambda code: st.sampled_from([code, code.lower().replace("-", ""), f" {code} "])
        )
        return st.one_of(st.just(body), typed.map(lambda code: {"receipt": code}))
    if context.operation.path != vs.ballot_path():
        return st.just(body)
    # Two or three of the four cheaper proposals fit the rule and the budget: a valid ballot.
    valid = st.lists(st.sampled_from(world.voting.ids[:4]), min_size=2, max_size=3, unique=True)
    junk = st.lists(
        st.sampled_from([*world.voting.ids, *world.published.ids, 0, -1, 2**40]), max_size=6
    )
    real = st.builds(
        vs.body,
        st.sampled_from(world.voting.titulos),
        st.one_of(valid, junk),
        st.sampled_from([vs.BIRTH, vs.BIRTH, "1999-01-01"]),
    )
    return st.one_of(st.just(body), real)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(app, seeded, case):
    case.call_and_validate(app=app)


CAST = schema["/api/v1/cycles/{slug}/ballots"]["POST"]


def test_steered_ballots_reach_the_vote_itself(app, seeded):
    """Control for the hooks: generated ballots do get past identification to the vote."""
    statuses: set[int] = set()

    @given(case=CAST.as_strategy())
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def cast(case):
        statuses.add(case.call(app=app).status_code)

    cast()
    # 201 a vote recorded, 409 a second vote by the same voter, 422 a ballot against the rule.
    assert {201, 409, 422} <= statuses, statuses


LOOKUP = schema[LOOKUP_PATH]["POST"]


def test_steered_lookups_find_real_receipts(app, seeded):
    """Control for the hooks: generated lookups do find receipts (sealed and pending)."""
    statuses: set[int] = set()

    @given(case=LOOKUP.as_strategy())
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def look_up(case):
        statuses.add(case.call(app=app).status_code)

    look_up()
    assert {200, 404} <= statuses, statuses


# --- regressions: answers the fuzzing found outside the document ---------------------------


def test_an_empty_status_filter_is_documented_as_no_filter(client, app_ctx):
    # `?status=` lists everything (as `?region=`); the document said only the enum was valid.
    parameter = schema.raw_schema["components"]["parameters"]["StatusFilter"]
    assert parameter["allowEmptyValue"] is True
    world = vs.voting_cycle()
    response = client.get(f"/api/v1/cycles/{world.slug}/proposals?status=")
    assert response.status_code == 200
    assert len(response.get_json()["proposals"]) == len(world.ids)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cycles/%00",
        "/api/v1/cycles/x/schedule?region=%00",
        "/api/v1/cycles/x/receipts/A%00",
    ],
)
def test_a_nul_character_is_refused_as_the_document_says(client, url):
    # Every request with NUL is refused (factory.guard_inputs); the parameters now say so.
    patterns = [
        schema.raw_schema["components"]["parameters"][name]["schema"]["pattern"]
        for name in ("CycleSlug", "RegionFilter", "SchoolFilter")
    ]
    assert patterns == ["^[^\x00]*$"] * 3
    response = client.get(url)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_character"
