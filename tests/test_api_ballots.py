"""`POST /api/v1/cycles/{slug}/ballots`: every documented answer, checked against the document."""

from __future__ import annotations

import json
import threading
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opdigital.api.ballots import MAX_BODY_BYTES
from opdigital.counting import ballot_rules
from opdigital.extensions import db
from opdigital.registry.models import cycle_scope
from opdigital.voting.models import Ballot, Participation, TurnoutCount
from tests.support import factories
from tests.support import voting as vs
from tests.support.api import SPEC, assert_matches_spec

PATH = vs.ballot_path()


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _problem_codes(response) -> list[str]:
    return [p["code"] for p in response.get_json()["error"]["problems"]]


# Every answer here must hold on both cast paths.
pytestmark = pytest.mark.usefixtures("cast_path")


@pytest.fixture
def election(app_ctx):
    """An open knapsack cycle (2-3 choices within R$ 3,5 mi) and two voters on the roll."""
    return vs.two_voters(101, other_birth=date(1990, 1, 2), other_in_region=False)


@pytest.fixture
def limits(settings):
    """Patch rate-limit settings for one test (restored afterwards)."""
    return settings


# --- accepted ----------------------------------------------------------------------------


def test_valid_ballot_is_201_with_a_receipt_and_one_row_each(client, election):
    a, b, c = election.ids[2], election.ids[0], election.ids[1]
    response = vs.post_ballot(client, election.slug, vs.body(election.voter, [a, str(b), c]))
    assert_matches_spec(response, PATH, "post", 201)
    assert set(response.get_json()) == {"receipt"}  # no choices echoed, nothing else
    assert "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    participation = db.session.scalars(sa.select(Participation)).one()
    assert participation.voter_key == vs.key_of(election.voter)
    assert participation.cycle_id == election.cycle.id
    assert participation.region_id == election.region.id
    assert participation.voting_point_id is None
    ballot = db.session.scalars(sa.select(Ballot)).one()
    assert ballot.choices == sorted([a, b, c])
    assert ballot.cycle_id == election.cycle.id
    assert sum(t.votes for t in db.session.scalars(sa.select(TurnoutCount))) == 1


def test_titulo_with_separators_and_string_ids_is_accepted(client, election):
    payload = vs.body(vs.pretty(election.voter), [str(i) for i in election.ids[:2]])
    response = vs.post_ballot(client, election.slug, payload)
    assert_matches_spec(response, PATH, "post", 201)


def test_second_cast_is_409_and_nothing_more_is_stored(client, election):
    first = vs.post_ballot(client, election.slug, vs.body(election.voter, election.ids[:2]))
    assert_matches_spec(first, PATH, "post", 201)
    again = vs.post_ballot(client, election.slug, vs.body(election.voter, election.ids[2:4]))
    assert_matches_spec(again, PATH, "post", 409)
    assert again.get_json()["error"]["code"] == "already_voted"
    assert "receipt" not in again.get_json()
    assert _count(Participation) == 1
    assert _count(Ballot) == 1
    assert db.session.scalar(sa.select(Ballot.choices)) == sorted(election.ids[:2])


def test_two_voters_two_ballots(client, election):
    for number in (election.voter, election.other):
        birth = vs.BIRTH if number == election.voter else date(1990, 1, 2)
        response = vs.post_ballot(client, election.slug, vs.body(number, election.ids[:2], birth))
        assert_matches_spec(response, PATH, "post", 201)
    assert _count(Participation) == 2
    assert _count(Ballot) == 2


# --- invalid ballots (422) -----------------------------------------------------------------


def _invalid(client, election, choices) -> list[str]:
    response = vs.post_ballot(client, election.slug, vs.body(election.voter, choices))
    assert_matches_spec(response, PATH, "post", 422)
    assert response.get_json()["error"]["code"] == "invalid_ballot"
    assert _count(Participation) == 0 and _count(Ballot) == 0
    return _problem_codes(response)


def test_unknown_id_is_422_with_the_index(client, election):
    response = vs.post_ballot(
        client, election.slug, vs.body(election.voter, [election.ids[0], 999_999])
    )
    assert_matches_spec(response, PATH, "post", 422)
    problems = response.get_json()["error"]["problems"]
    assert {"code": "unknown_project", "detail": {"index": 1, "id": 999_999}} in problems


def test_duplicate_id_is_422(client, election):
    codes = _invalid(client, election, [election.ids[0], election.ids[0], election.ids[1]])
    assert codes == ["duplicate"]


def test_proposal_of_another_cycle_is_422(client, election):
    other = vs.voting_cycle()
    codes = _invalid(client, election, [election.ids[0], other.ids[0]])
    assert "unknown_project" in codes


def test_proposal_not_on_the_ballot_is_422(client, election):
    rejected = factories.proposal(election.cycle, status="rejected")
    codes = _invalid(client, election, [election.ids[0], rejected.id])
    assert "unknown_project" in codes


def test_too_few_is_422(client, election):
    assert _invalid(client, election, [election.ids[0]]) == ["too_few"]


def test_too_many_is_422(client, election):
    assert "too_many" in _invalid(client, election, election.ids[:4])


def test_over_budget_is_422(client, election):
    # 1 + 1 + 2 million reais against a 3.5 million budget, with an allowed number of choices.
    codes = _invalid(client, election, [election.ids[0], election.ids[1], election.ids[4]])
    assert codes == ["over_budget"]


def test_empty_ballot_is_422(client, election):
    assert _invalid(client, election, []) == ["empty"]


def test_entries_that_are_not_ids_are_422(client, election):
    codes = _invalid(client, election, [election.ids[0], True, None, 1.5, "012", {"id": 1}])
    assert codes.count("not_an_id") == 5


def test_every_problem_code_is_documented():
    documented = SPEC["components"]["schemas"]["BallotProblem"]["properties"]["code"]["enum"]
    module_codes = {
        value
        for name, value in vars(ballot_rules).items()
        if name.isupper() and isinstance(value, str) and name not in {"RULE_KINDS"}
    }
    rule_config_codes = {
        ballot_rules.INVALID_LIMIT,
        ballot_rules.MIN_ABOVE_MAX,
        ballot_rules.SHARE_OUT_OF_RANGE,
        ballot_rules.NO_BUDGET,
        ballot_rules.NO_REGION_BUDGET,
        ballot_rules.PROJECT_WITHOUT_REGION,
        ballot_rules.MIN_ABOVE_AVAILABLE,
    }
    assert set(documented) == module_codes - rule_config_codes


def test_cycle_without_a_ballot_rule_is_422_not_500(client, election):
    election.cycle.ballot_rule = None
    db.session.commit()
    response = vs.post_ballot(client, election.slug, vs.body(election.voter, election.ids[:2]))
    assert_matches_spec(response, PATH, "post", 422)
    assert response.get_json()["error"]["code"] == "no_ballot_rule"
    assert _count(Participation) == 0


# --- not eligible, closed, unknown cycle -----------------------------------------------------


def test_wrong_birth_date_and_unknown_titulo_get_identical_403s(client, election):
    wrong_birth = vs.post_ballot(
        client, election.slug, vs.body(election.voter, election.ids[:2], date(1980, 5, 18))
    )
    unknown = vs.post_ballot(client, election.slug, vs.body(vs.make_titulo(9999), election.ids[:2]))
    bad_digits = vs.post_ballot(
        client, election.slug, vs.body(vs.wrong_check_digit(election.voter), election.ids[:2])
    )
    for response in (wrong_birth, unknown, bad_digits):
        assert_matches_spec(response, PATH, "post", 403)
        assert response.get_json()["error"]["code"] == "not_eligible"
    assert wrong_birth.get_data() == unknown.get_data() == bad_digits.get_data()
    assert _count(Participation) == 0


def test_voter_outside_the_regional_ballot_is_403(client, election):
    election.cycle.restrict_region_id = factories.region().id
    db.session.commit()
    response = vs.post_ballot(client, election.slug, vs.body(election.voter, election.ids[:2]))
    assert_matches_spec(response, PATH, "post", 403)
    assert response.get_json()["error"]["code"] == "not_eligible"


def test_cycle_not_voting_is_403_voting_closed(client, election):
    election.cycle.state = "closed"
    db.session.commit()
    response = vs.post_ballot(client, election.slug, vs.body(election.voter, election.ids[:2]))
    assert_matches_spec(response, PATH, "post", 403)
    assert response.get_json()["error"]["code"] == "voting_closed"


@pytest.mark.parametrize("slug", ["no-such-cycle", "draft"])
def test_unknown_or_draft_cycle_is_404(client, election, slug):
    if slug == "draft":
        election.cycle.state = "draft"
        db.session.commit()
        slug = election.slug
    response = vs.post_ballot(client, slug, vs.body(election.voter, election.ids[:2]))
    assert_matches_spec(response, PATH, "post", 404)
    assert response.get_json()["error"]["code"] == "cycle_not_found"


def test_other_methods_are_405(client, election):
    for method in (client.get, client.put, client.delete):
        response = method(f"/api/v1/cycles/{election.slug}/ballots")
        assert response.status_code == 405
        assert "POST" in response.headers["Allow"]


# --- OPCA ----------------------------------------------------------------------------------


@pytest.fixture
def opca(app_ctx):
    school = factories.school(slug="em-aurora", name="Escola Municipal Aurora")
    world = vs.voting_cycle(kind="opca", min_voter_age=6, max_voter_age=15)
    world.cycle.registry_scope = cycle_scope(world.cycle.id)
    db.session.commit()
    world.school = school
    world.birth = date(2015, 3, 9)
    vs.register_pupil(school, "004521", world.birth, scope=world.cycle.registry_scope)
    return world


def _pupil(world, enrolment="4521", birth=None, school=None) -> dict:
    return {
        "credentials": {
            "school": school or world.school.slug,
            "enrolment": enrolment,
            "birth_date": (birth or world.birth).isoformat(),
        },
        "choices": world.ids[:2],
    }


def test_opca_pupil_votes_with_school_and_enrolment(client, opca):
    response = vs.post_ballot(client, opca.slug, _pupil(opca))
    assert_matches_spec(response, PATH, "post", 201)
    participation = db.session.scalars(sa.select(Participation)).one()
    assert participation.region_id == opca.school.region_id
    again = vs.post_ballot(client, opca.slug, _pupil(opca, enrolment="00004521"))
    assert_matches_spec(again, PATH, "post", 409)


def test_opca_wrong_birth_date_and_unknown_pupil_get_identical_403s(client, opca):
    wrong = vs.post_ballot(client, opca.slug, _pupil(opca, birth=date(2015, 3, 10)))
    unknown = vs.post_ballot(client, opca.slug, _pupil(opca, enrolment="9999"))
    other_school = vs.post_ballot(client, opca.slug, _pupil(opca, school="em-outra"))
    for response in (wrong, unknown, other_school):
        assert_matches_spec(response, PATH, "post", 403)
    assert wrong.get_data() == unknown.get_data() == other_school.get_data()


def test_credentials_of_the_wrong_kind_are_400(client, opca, election):
    titulo_in_opca = vs.post_ballot(client, opca.slug, vs.body(election.voter, opca.ids[:2]))
    assert_matches_spec(titulo_in_opca, PATH, "post", 400)
    school_in_op = vs.post_ballot(client, election.slug, _pupil(opca) | {"choices": []})
    assert_matches_spec(school_in_op, PATH, "post", 400)


def test_opca_enrolment_spellings_share_one_failure_counter(client, opca, limits):
    limits(VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="2 per 15 minutes")
    wrong = date(2014, 1, 1)
    for enrolment in ("4521", "04521"):
        answer = vs.post_ballot(client, opca.slug, _pupil(opca, enrolment=enrolment, birth=wrong))
        assert answer.status_code == 403
    locked = vs.post_ballot(client, opca.slug, _pupil(opca, enrolment="0004.521"))
    assert_matches_spec(locked, PATH, "post", 429)


# --- rate limits (429) ---------------------------------------------------------------------


def test_failed_identifications_pause_the_credential_for_that_address_only(
    client, election, limits
):
    limits(VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="3 per 15 minutes")
    wrong = vs.body(election.voter, election.ids[:2], date(2000, 1, 1))
    for _ in range(3):
        assert_matches_spec(vs.post_ballot(client, election.slug, wrong), PATH, "post", 403)
    # From this address even the right birth date is refused until the window passes: guessing
    # stops.
    locked = vs.post_ballot(client, election.slug, vs.body(election.voter, election.ids[:2]))
    assert_matches_spec(locked, PATH, "post", 429)
    assert locked.get_json()["error"]["code"] == "rate_limited"
    assert "a partir desta conexão" in locked.get_json()["error"]["message"]
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    assert _count(Participation) == 0
    # The same título typed with spaces is the same credential.
    spaced = vs.body(vs.pretty(election.voter), election.ids[:2])
    assert vs.post_ballot(client, election.slug, spaced).status_code == 429
    # Another voter from the same address is not affected...
    other = vs.body(election.other, election.ids[:2], date(1990, 1, 2))
    assert_matches_spec(vs.post_ballot(client, election.slug, other), PATH, "post", 201)
    # ...nor is the voter from their own address: what others send cannot keep them out.
    at_home = vs.post_ballot(
        client,
        election.slug,
        vs.body(election.voter, election.ids[:2]),
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    assert_matches_spec(at_home, PATH, "post", 201)


def test_invalid_ballots_are_not_guesses_and_a_success_clears_the_failures(
    client, election, limits
):
    limits(VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="2 per 15 minutes")
    wrong = vs.body(election.voter, election.ids[:2], date(2000, 1, 1))
    assert vs.post_ballot(client, election.slug, wrong).status_code == 403
    # A ballot the rule refuses is checked before the credentials, and is not counted.
    invalid = vs.body(election.voter, election.ids[:1])
    for _ in range(3):
        assert vs.post_ballot(client, election.slug, invalid).status_code == 422
    right = vs.body(election.voter, election.ids[:2])
    assert_matches_spec(vs.post_ballot(client, election.slug, right), PATH, "post", 201)
    # The success forgot the failure before it: two more fit in the window, the third does not.
    assert vs.post_ballot(client, election.slug, wrong).status_code == 403
    assert vs.post_ballot(client, election.slug, wrong).status_code == 403
    assert vs.post_ballot(client, election.slug, wrong).status_code == 429


def test_per_address_limit_is_429_with_retry_after(client, election, limits):
    limits(VOTE_LIMIT_PER_IP="3 per minute")
    wrong = vs.body(vs.make_titulo(555), election.ids[:2])
    for _ in range(3):
        assert vs.post_ballot(client, election.slug, wrong).status_code == 403
    response = vs.post_ballot(client, election.slug, vs.body(election.voter, election.ids[:2]))
    assert_matches_spec(response, PATH, "post", 429)
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # Another address is counted apart.
    elsewhere = vs.post_ballot(
        client,
        election.slug,
        vs.body(election.voter, election.ids[:2]),
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert_matches_spec(elsewhere, PATH, "post", 201)


def test_voting_point_gets_the_higher_limit_and_is_recorded(client, election, limits):
    limits(VOTE_LIMIT_PER_IP="2 per minute", VOTE_LIMIT_PER_VOTING_POINT="5 per minute")
    point = vs.voting_point("kiosk-token-centro", region=election.region)
    wrong = vs.body(vs.make_titulo(556), election.ids[:2])
    for _ in range(4):
        answer = vs.post_ballot(client, election.slug, wrong, token="kiosk-token-centro")
        assert answer.status_code == 403
    response = vs.post_ballot(
        client, election.slug, vs.body(election.voter, election.ids[:2]), token="kiosk-token-centro"
    )
    assert_matches_spec(response, PATH, "post", 201)
    assert db.session.scalar(sa.select(Participation.voting_point_id)) == point.id
    sixth = vs.post_ballot(client, election.slug, wrong, token="kiosk-token-centro")
    assert_matches_spec(sixth, PATH, "post", 429)
    # The address itself still has its own (lower) allowance, untouched by the kiosk.
    other = vs.body(election.other, election.ids[:2], date(1990, 1, 2))
    plain = vs.post_ballot(client, election.slug, other)
    assert_matches_spec(plain, PATH, "post", 201)
    assert (
        db.session.scalar(
            sa.select(Participation.voting_point_id).where(
                Participation.voter_key == vs.key_of(election.other)
            )
        )
        is None
    )


def test_unknown_token_gets_the_address_limit(client, election, limits):
    limits(VOTE_LIMIT_PER_IP="1 per minute", VOTE_LIMIT_PER_VOTING_POINT="50 per minute")
    vs.voting_point("real-token")
    wrong = vs.body(vs.make_titulo(557), election.ids[:2])
    assert vs.post_ballot(client, election.slug, wrong, token="forged").status_code == 403
    assert vs.post_ballot(client, election.slug, wrong, token="forged").status_code == 429


# --- malformed bodies (400) ----------------------------------------------------------------

_GOOD = {"titulo": "000001010201", "birth_date": "1980-05-17"}
MALFORMED = [
    pytest.param(b"{not json", "application/json", id="not-json"),
    pytest.param(b"\xff\xfe{}", "application/json", id="not-utf8"),
    pytest.param(b"", "application/json", id="empty-body"),
    pytest.param(b"[" * 5000 + b"]" * 5000, "application/json", id="deeply-nested"),
    pytest.param(b'{"credentials": {}, "choices": []}', "text/plain", id="text-plain"),
    pytest.param(b"credentials=x&choices=1", "application/x-www-form-urlencoded", id="form"),
    pytest.param([1, 2], None, id="array-body"),
    pytest.param("ballot", None, id="string-body"),
    pytest.param(None, None, id="null-body"),
    pytest.param({"choices": [1]}, None, id="no-credentials"),
    pytest.param({"credentials": _GOOD}, None, id="no-choices"),
    pytest.param({"credentials": _GOOD, "choices": [], "vote": 1}, None, id="extra-field"),
    pytest.param({"credentials": _GOOD, "choices": "1,2"}, None, id="choices-string"),
    pytest.param({"credentials": _GOOD, "choices": {"0": 1}}, None, id="choices-object"),
    pytest.param({"credentials": _GOOD, "choices": 7}, None, id="choices-number"),
    pytest.param({"credentials": _GOOD, "choices": list(range(1001))}, None, id="choices-huge"),
    pytest.param({"credentials": "000001010201", "choices": []}, None, id="credentials-string"),
    pytest.param({"credentials": [], "choices": []}, None, id="credentials-list"),
    pytest.param({"credentials": {"titulo": "1"}, "choices": []}, None, id="no-birth-date"),
    pytest.param({"credentials": {"birth_date": "1980-05-17"}, "choices": []}, None, id="no-id"),
    pytest.param(
        {"credentials": _GOOD | {"school": "em-aurora", "enrolment": "1"}, "choices": []},
        None,
        id="titulo-and-school",
    ),
    pytest.param({"credentials": _GOOD | {"pin": "1"}, "choices": []}, None, id="extra-cred"),
    pytest.param(
        {"credentials": {"titulo": 101020102, "birth_date": "1980-05-17"}, "choices": []},
        None,
        id="titulo-number",
    ),
    pytest.param(
        {"credentials": {"titulo": "   ", "birth_date": "1980-05-17"}, "choices": []},
        None,
        id="titulo-blank",
    ),
    pytest.param(
        {"credentials": {"titulo": "1" * 33, "birth_date": "1980-05-17"}, "choices": []},
        None,
        id="titulo-too-long",
    ),
    pytest.param(
        {"credentials": {"titulo": "0000\x0001010201", "birth_date": "1980-05-17"}, "choices": []},
        None,
        id="titulo-nul",
    ),
    pytest.param(
        {"credentials": _GOOD | {"birth_date": "17/05/1980"}, "choices": []}, None, id="date-br"
    ),
    pytest.param(
        {"credentials": _GOOD | {"birth_date": "1980-02-30"}, "choices": []}, None, id="date-feb-30"
    ),
    pytest.param(
        {"credentials": _GOOD | {"birth_date": "19800517"}, "choices": []}, None, id="date-basic"
    ),
    pytest.param(
        {"credentials": _GOOD | {"birth_date": 19800517}, "choices": []}, None, id="date-number"
    ),
    pytest.param(
        {"credentials": _GOOD | {"birth_date": None}, "choices": []}, None, id="date-null"
    ),
    pytest.param(
        {"credentials": {"school": "em-aurora", "birth_date": "2015-03-09"}, "choices": []},
        None,
        id="school-no-enrolment",
    ),
    pytest.param(
        {
            "credentials": {"school": "em-aurora", "enrolment": 4521, "birth_date": "2015-03-09"},
            "choices": [],
        },
        None,
        id="enrolment-number",
    ),
]


@pytest.mark.parametrize(("payload", "content_type"), MALFORMED)
def test_malformed_body_is_400_with_a_clear_message(client, election, payload, content_type):
    url = f"/api/v1/cycles/{election.slug}/ballots"
    if content_type is None:
        response = client.post(url, json=payload)
    else:
        response = client.post(url, data=payload, content_type=content_type)
    assert_matches_spec(response, PATH, "post", 400)
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert len(error["message"]) > 10
    assert _count(Participation) == 0


def test_body_too_large_is_400(client, election):
    padding = " " * MAX_BODY_BYTES
    data = '{"credentials": {"titulo": "000001010201", "birth_date": "1980-05-17"},'
    data += f' "choices": []{padding}}}'
    response = client.post(
        f"/api/v1/cycles/{election.slug}/ballots?lang=en",
        data=data,
        content_type="application/json",
    )
    assert_matches_spec(response, PATH, "post", 400)
    assert "too large" in response.get_json()["error"]["message"]


def test_body_above_the_app_wide_limit_is_still_a_clean_400(client, election):
    data = b"[" + b"1," * (1_100_000) + b"1]"
    response = client.post(
        f"/api/v1/cycles/{election.slug}/ballots", data=data, content_type="application/json"
    )
    assert_matches_spec(response, PATH, "post", 400)


def test_json_with_charset_is_accepted(client, election):
    response = client.post(
        f"/api/v1/cycles/{election.slug}/ballots",
        data=json.dumps(vs.body(election.voter, election.ids[:2])),
        content_type="application/json; charset=utf-8",
    )
    assert_matches_spec(response, PATH, "post", 201)


def test_malformed_body_is_refused_before_the_cycle_is_looked_up(client, app_ctx):
    response = client.post("/api/v1/cycles/no-such-cycle/ballots", json={"choices": []})
    assert_matches_spec(response, PATH, "post", 400)


# --- concurrency ---------------------------------------------------------------------------


def test_200_concurrent_casts_for_one_voter_give_one_vote(app, election, limits):
    limits(
        VOTE_LIMIT_PER_IP="10000 per minute",
        # Right credentials sent 200 times at once: held back by the attempts in flight only
        # if the limits are below that (attempt_limits.INFLIGHT_SECONDS).
        VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="10000 per 15 minutes",
        VOTER_FAILURES_PER_CREDENTIAL="10000 per day",
    )
    slug, payload = election.slug, vs.body(election.voter, election.ids[:2])
    threads, per_thread = 16, [13] * 8 + [12] * 8  # 200 casts in all
    start = threading.Barrier(threads, timeout=30)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def kiosk(casts: int) -> None:
        client = app.test_client()  # one client per thread, as separate kiosks
        start.wait()
        for _ in range(casts):
            response = client.post(f"/api/v1/cycles/{slug}/ballots", json=payload)
            with lock:
                results.append((response.status_code, response.get_json()))

    db.session.remove()  # the threads use their own sessions; do not hold a connection here
    workers = [threading.Thread(target=kiosk, args=(n,)) for n in per_thread]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert len(results) == 200
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1, sorted(set(statuses))
    assert statuses.count(409) == 199
    assert all(
        body["error"]["code"] == "already_voted" for status, body in results if status == 409
    )
    assert _count(Participation) == 1
    assert _count(Ballot) == 1
    assert sum(t.votes for t in db.session.scalars(sa.select(TurnoutCount))) == 1


def test_spec_check_requires_the_documented_retry_after(app):
    """The helper really checks documented headers: a 429 without Retry-After fails it."""
    body = {"error": {"code": "rate_limited", "message": "Too many attempts."}}
    with app.test_request_context():
        bare = app.response_class(json.dumps(body), status=429, mimetype="application/json")
        with pytest.raises(AssertionError, match="Retry-After"):
            assert_matches_spec(bare, PATH, "post", 429)
        bare.headers["Retry-After"] = "soon"
        with pytest.raises(AssertionError, match="not an integer"):
            assert_matches_spec(bare, PATH, "post", 429)
        bare.headers["Retry-After"] = "30"
        assert_matches_spec(bare, PATH, "post", 429)


# --- own region only -----------------------------------------------------------------------


def _own_region_world(kind: str = "op-digital") -> SimpleNamespace:
    """An approval cycle under "own region only" with two works in each of two homes (regions,
    or for OPCA schools), and a voter of the first home on the roll."""
    world = vs.voting_cycle(
        kind=kind,
        costs=(),
        ballot_rule="approval",
        ballot_rule_params={"own_region_only": True},
        **({"min_voter_age": 6, "max_voter_age": 15} if kind == "opca" else {}),
    )
    schools = [factories.school(), factories.school()]
    world.homes = {}
    for school in schools:
        region = school.region
        world.homes[school.id if kind == "opca" else region.id] = [
            factories.proposal(
                world.cycle,
                status="on_ballot",
                region=region,
                school=school if kind == "opca" else None,
            ).id
            for _ in range(2)
        ]
    world.mine, world.theirs = world.homes.values()
    if kind == "opca":
        world.cycle.registry_scope = cycle_scope(world.cycle.id)
        db.session.commit()
        world.birth = date(2015, 3, 9)
        vs.register_pupil(schools[0], "4521", world.birth, scope=world.cycle.registry_scope)
        world.credentials = {
            "school": schools[0].slug,
            "enrolment": "4521",
            "birth_date": world.birth.isoformat(),
        }
    else:
        world.voter = vs.make_titulo(301)
        vs.register(world.voter, region=schools[0].region)
        world.credentials = vs.body(world.voter, [])["credentials"]
    return world


@pytest.mark.parametrize("kind", ["op-digital", "opca"])
def test_own_region_only_accepts_the_voters_own_works(client, app_ctx, kind):
    world = _own_region_world(kind)
    payload = {"credentials": world.credentials, "choices": world.mine}
    response = vs.post_ballot(client, world.slug, payload)
    assert_matches_spec(response, PATH, "post", 201)


@pytest.mark.parametrize("kind", ["op-digital", "opca"])
def test_own_region_only_refuses_another_regions_work_once_the_voter_is_known(
    client, app_ctx, kind
):
    world = _own_region_world(kind)
    payload = {"credentials": world.credentials, "choices": [world.theirs[1], world.theirs[0]]}
    response = vs.post_ballot(client, world.slug, payload)
    assert_matches_spec(response, PATH, "post", 422)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_ballot"
    assert error["problems"] == [
        {"code": "not_your_region", "detail": {"index": 0, "id": world.theirs[1]}},
        {"code": "not_your_region", "detail": {"index": 1, "id": world.theirs[0]}},
    ]
    assert "região" in error["message"]
    assert _count(Participation) == 0
    assert _count(Ballot) == 0
    # Refused, not spent: the voter may still cast their own region's works.
    payload["choices"] = world.mine[:1]
    assert_matches_spec(vs.post_ballot(client, world.slug, payload), PATH, "post", 201)


def test_own_region_only_refuses_works_of_two_regions_before_identifying(client, app_ctx):
    world = _own_region_world()
    payload = {"credentials": world.credentials, "choices": [world.mine[0], world.theirs[0]]}
    response = vs.post_ballot(client, world.slug, payload)
    assert_matches_spec(response, PATH, "post", 422)
    assert _problem_codes(response) == ["several_regions"]
    assert _count(Participation) == 0
