"""The phone's dialogue engine on its own (pure): fake services, real ballot rules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import pytest

from opdigital.counting.ballot_rules import BallotProject, BallotRule
from opdigital.phone import dialogue
from opdigital.phone.dialogue import (
    TIMEOUT,
    CycleOption,
    Expect,
    Input,
    Outcome,
    PhoneBallot,
    Result,
    Stage,
    State,
    Voter,
    Work,
)

TITULO = "123456789012"
BORN = "05031980"
VOTER = Voter("v" * 64, region_id=1)

# Two regions of two works and one city-wide work, in the line's order.
WORKS = (
    Work(1, 11, "Praça da Paz", 100_000_00, 1, "Barreiro"),
    Work(2, 12, "Creche Sol", 300_000_00, 1, "Barreiro"),
    Work(3, 21, "Posto de saúde", 200_000_00, 2, "Norte"),
    Work(4, 22, "Quadra", 150_000_00, 2, "Norte"),
    Work(5, 31, "Ciclovia", 500_000_00, None, ""),
)


def ballot_of(rule: BallotRule, works=WORKS, home=None) -> PhoneBallot:
    projects = tuple(BallotProject(w.proposal_id, w.cost_cents, w.region_id) for w in works)
    return PhoneBallot(rule, projects, tuple(works), home)


@dataclass
class FakeServices:
    rule: BallotRule = field(default_factory=lambda: BallotRule("approval", max_choices=2))
    options: list = field(default_factory=lambda: [CycleOption("op-2026", "OP Digital 2026")])
    identity: Result = field(default_factory=lambda: Result(Outcome.IDENTIFIED, voter=VOTER))
    cast_result: Result | None = None
    texter_ok: bool | None = None  # None: no text receipts offered
    keyed: list = field(default_factory=list)
    identified_with: list = field(default_factory=list)
    cast_with: list = field(default_factory=list)
    texted: list = field(default_factory=list)

    def cycles(self):
        return list(self.options)

    def titulo_key(self, digits):
        self.keyed.append(digits)
        return "k" * 64

    def identify(self, slug, titulo_key, birth_date):
        self.identified_with.append((slug, titulo_key, birth_date))
        return self.identity

    def ballot(self, slug, voter):
        return ballot_of(self.rule)

    def cast(self, slug, voter, choices):
        self.cast_with.append((slug, voter, tuple(choices)))
        return self.cast_result or Result(Outcome.CAST, receipt="K7Q2-M4XA-9PLD-W3ZT")

    def can_text_receipt(self):
        return self.texter_ok is not None

    def text_receipt(self, code):
        self.texted.append(code)
        return bool(self.texter_ok)


def keys(lines) -> list[str]:
    return [line.key for line in lines]


def run(services, *presses: str, state: State | None = None):
    """Begin (unless `state`) and answer each press ("-" is a timeout); the last state and
    every reply."""
    replies = []
    if state is None:
        state, reply = dialogue.begin(services)
        replies.append(reply)
    for press in presses:
        given = TIMEOUT if press == "-" else Input(press)
        state, reply = dialogue.answer(state, given, services)
        replies.append(reply)
    return state, replies


def in_ballot(services) -> State:
    state, _ = run(services, TITULO, BORN)
    assert state.stage == Stage.BALLOT
    return state


# --- Greeting and identification -------------------------------------------------------------


def test_one_cycle_open_goes_straight_to_the_titulo():
    state, [reply] = run(FakeServices())
    assert state.stage == Stage.TITULO and state.cycle == "op-2026"
    assert keys(reply.lines) == ["welcome", "slower_hint", "cycle_chosen", "ask_titulo"]
    assert reply.expect == Expect.TITULO


def test_several_cycles_are_offered_by_number_and_a_wrong_number_is_asked_again():
    services = FakeServices(options=[CycleOption("a", "A"), CycleOption("b", "B")])
    state, replies = run(services, "7", "2")
    assert replies[0].expect == Expect.CYCLE
    assert [line.values for line in replies[0].lines if line.key == "cycle_option"] == [
        {"number": 1, "name": "A"},
        {"number": 2, "name": "B"},
    ]
    assert keys(replies[1].lines)[0] == "invalid_key" and replies[1].expect == Expect.CYCLE
    assert state.cycle == "b" and state.stage == Stage.TITULO


def test_a_line_for_one_cycle_skips_the_menu_and_says_so_when_it_is_not_open():
    services = FakeServices(options=[CycleOption("a", "A"), CycleOption("b", "B")])
    state, reply = dialogue.begin(services, only="b")
    assert state.cycle == "b" and reply.expect == Expect.TITULO
    state, reply = dialogue.begin(services, only="closed-one")
    assert reply.ends and keys(reply.lines) == ["no_vote_open"]


def test_no_cycle_open_ends_the_call():
    state, [reply] = run(FakeServices(options=[]))
    assert reply.ends and keys(reply.lines) == ["no_vote_open"]


def test_the_state_keeps_only_the_titulo_key_and_drops_it_once_the_date_is_checked():
    services = FakeServices()
    state, _ = run(services, TITULO)
    assert state.stage == Stage.BIRTH_DATE and state.titulo_key == "k" * 64
    assert TITULO not in json.dumps(state.as_dict())
    state, _ = run(services, BORN, state=state)
    assert services.identified_with == [("op-2026", "k" * 64, date(1980, 3, 5))]
    assert state.titulo_key == "" and state.voter == VOTER


@pytest.mark.parametrize("typed", ["12345", "1234567890123", "12345678901a"])
def test_a_titulo_of_the_wrong_shape_is_asked_again(typed):
    state, [_, reply] = run(FakeServices(), typed)
    assert keys(reply.lines) == ["titulo_format", "ask_titulo"]
    assert state.stage == Stage.TITULO and state.failures == 1


def test_the_titulo_may_end_with_the_hash_key():
    state, _ = run(FakeServices(), TITULO + "#")
    assert state.stage == Stage.BIRTH_DATE


@pytest.mark.parametrize("typed", ["3102199", "31021990", "00001990", "1a031990"])
def test_a_birth_date_that_is_not_a_date_is_asked_again_without_identifying(typed):
    services = FakeServices()
    state, replies = run(services, TITULO, typed)
    assert keys(replies[-1].lines) == ["birth_date_format", "ask_birth_date"]
    assert services.identified_with == [] and state.stage == Stage.BIRTH_DATE


def test_refused_credentials_ask_again_and_the_third_refusal_ends_the_call():
    services = FakeServices(identity=Result(Outcome.NOT_ELIGIBLE))
    state, replies = run(services, TITULO, BORN, TITULO, BORN)
    assert keys(replies[2].lines) == ["not_eligible", "ask_titulo"]
    assert state.refusals == 2 and not replies[-1].ends
    state, replies = run(services, TITULO, BORN, state=state)
    assert replies[-1].ends
    assert keys(replies[-1].lines) == ["not_eligible", "goodbye_failures"]


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        (Result(Outcome.ALREADY_VOTED), "already_voted"),
        (Result(Outcome.CLOSED), "voting_closed"),
        (Result(Outcome.RATE_LIMITED, minutes=15), "rate_limited"),
    ],
)
def test_a_voter_who_cannot_vote_now_is_told_why_and_the_call_ends(outcome, said):
    state, replies = run(FakeServices(identity=outcome), TITULO, BORN)
    assert replies[-1].ends and keys(replies[-1].lines) == [said]
    assert state.voter is None


def test_three_silences_in_a_row_end_the_call_politely():
    state, replies = run(FakeServices(), "-", "-", "-")
    assert keys(replies[1].lines) == ["no_answer", "ask_titulo"]
    assert not replies[2].ends and replies[3].ends
    assert keys(replies[3].lines) == ["no_answer", "goodbye_failures"]


def test_a_good_answer_resets_the_failures():
    state, _ = run(FakeServices(), "-", "-", TITULO, "-", "-")
    assert state.stage == Stage.BIRTH_DATE and state.failures == 2


# --- The ballot ------------------------------------------------------------------------------


def test_the_ballot_opens_with_the_rule_and_the_first_region_and_work():
    state, replies = run(FakeServices(), TITULO, BORN)
    lines = replies[-1].lines
    assert keys(lines) == ["identified", "rule", "keys_help", "region", "work", "work_menu"]
    assert lines[1].values["max"] == 2
    assert lines[3].values == {"name": "Barreiro", "count": 2}
    assert lines[4].values == {
        "number": 1,
        "title": "Praça da Paz",
        "cost_cents": 100_000_00,
        "chosen": False,
    }


def test_next_back_repeat_and_skip_move_through_the_works_and_regions():
    services = FakeServices()
    state = in_ballot(services)
    state, replies = run(services, "3", state=state)
    assert keys(replies[-1].lines)[0] == "first_work" and state.position == 0
    state, replies = run(services, "2", state=state)
    assert state.position == 1 and "region" not in keys(replies[-1].lines)
    state, replies = run(services, "9", state=state)
    assert state.position == 2
    assert replies[-1].lines[0].values == {"name": "Norte", "count": 2}
    state, replies = run(services, "0", state=state)
    assert state.position == 2 and keys(replies[-1].lines) == ["region", "work", "work_menu"]
    state, replies = run(services, "9", "9", state=state)
    assert state.stage == Stage.SUMMARY
    assert keys(replies[-1].lines)[0] == "end_of_ballot"


def test_choosing_moves_on_and_choosing_again_removes():
    services = FakeServices()
    state = in_ballot(services)
    state, replies = run(services, "1", state=state)
    assert state.choices == (11,) and state.position == 1
    assert replies[-1].lines[0].values == {"number": 1, "count": 1}
    state, replies = run(services, "3", "1", state=state)
    assert state.choices == () and keys(replies[-1].lines) == ["unchosen", "work_menu"]


def test_the_maximum_reached_goes_to_the_summary_and_a_choice_over_it_is_refused():
    services = FakeServices()
    state = in_ballot(services)
    state, replies = run(services, "1", "1", state=state)
    assert state.choices == (11, 12) and state.stage == Stage.SUMMARY
    summary = replies[-1].lines
    assert keys(summary) == ["chosen", "summary", "summary_work", "summary_work", "summary_menu"]
    state, replies = run(services, "2", "9", "1", state=state)  # change, skip to Norte, choose
    assert state.choices == (11, 12)
    assert replies[-1].lines[0].values["code"] == "too_many"


def test_one_per_region_replaces_the_regions_choice_and_moves_to_the_next_region():
    services = FakeServices(rule=BallotRule("one-per-region"))
    state = in_ballot(services)
    state, _ = run(services, "1", state=state)
    assert state.choices == (11,) and state.position == 2  # on to Norte
    state, replies = run(services, "3", "1", state=state)  # back to Creche Sol, choose it
    assert state.choices == (12,)
    assert replies[-1].lines[0].values == {"number": 2, "count": 1, "replaced": 1}


def test_one_city_wide_goes_to_the_summary_at_once():
    services = FakeServices(rule=BallotRule("one-city-wide"))
    state = in_ballot(services)
    state, _ = run(services, "2", "1", state=state)
    assert state.stage == Stage.SUMMARY and state.choices == (12,)


def test_a_knapsack_says_what_is_left_and_refuses_what_does_not_fit():
    services = FakeServices(rule=BallotRule("knapsack", budget_cents=450_000_00))
    state = in_ballot(services)
    state, replies = run(services, "2", "1", state=state)  # Creche Sol, 300k
    assert replies[-1].lines[0].values["left_cents"] == 150_000_00
    state, replies = run(services, "1", state=state)  # Posto de saúde, 200k: over
    problem = replies[-1].lines[0]
    assert problem.values["code"] == "over_budget" and problem.values["excess_cents"] == 50_000_00
    assert state.choices == (12,)


def test_an_invalid_key_on_the_ballot_is_explained_and_the_work_read_again():
    state, replies = run(FakeServices(), TITULO, BORN, "5")
    assert keys(replies[-1].lines) == ["invalid_key", "work", "work_menu"]


def test_slower_speech_can_be_switched_on_and_off_and_the_question_is_repeated():
    services = FakeServices()
    state = in_ballot(services)
    state, replies = run(services, "*", state=state)
    assert state.slow and replies[-1].slow
    assert keys(replies[-1].lines) == ["slower_on", "work", "work_menu"]
    state, replies = run(services, "*", state=state)
    assert not state.slow and keys(replies[-1].lines)[0] == "slower_off"


# --- Summary, cast and receipt ---------------------------------------------------------------


def test_confirming_casts_and_forgets_the_voter_and_the_choices():
    services = FakeServices()
    state = in_ballot(services)
    state, replies = run(services, "1", "#", "1", state=state)
    assert services.cast_with == [("op-2026", VOTER, (11,))]
    assert state.stage == Stage.RECEIPT and state.voter is None and state.choices == ()
    lines = replies[-1].lines
    assert keys(lines) == ["cast_done", "receipt_code", "receipt_again", "receipt_menu"]
    assert lines[1].values["code"] == lines[2].values["code"] == "K7Q2-M4XA-9PLD-W3ZT"
    assert VOTER.voter_key not in json.dumps(state.as_dict())


def test_an_incomplete_ballot_is_explained_at_the_confirmation_and_not_cast():
    services = FakeServices(rule=BallotRule("approval", min_choices=2, max_choices=3))
    state = in_ballot(services)
    state, replies = run(services, "1", "#", "1", state=state)
    assert services.cast_with == []
    assert replies[-1].lines[0].values["code"] == "too_few"
    assert state.stage == Stage.BALLOT and state.choices == (11,)


def test_a_vote_cast_meanwhile_elsewhere_is_told_and_the_call_ends():
    services = FakeServices(cast_result=Result(Outcome.ALREADY_VOTED))
    state = in_ballot(services)
    state, replies = run(services, "1", "#", "1", state=state)
    assert replies[-1].ends and keys(replies[-1].lines) == ["already_voted"]


def test_the_receipt_can_be_heard_again_and_sent_by_text():
    services = FakeServices(texter_ok=True)
    state = in_ballot(services)
    state, replies = run(services, "1", "#", "1", "0", "1", state=state)
    assert keys(replies[-2].lines) == ["receipt_code", "receipt_again", "receipt_menu"]
    assert replies[-2].lines[-1].values == {"can_text": True}
    assert services.texted == ["K7Q2-M4XA-9PLD-W3ZT"]
    assert replies[-1].ends and keys(replies[-1].lines) == ["receipt_texted", "goodbye"]
    assert state.receipt == ""


def test_without_text_receipts_the_key_is_not_an_option_and_silence_says_goodbye():
    services = FakeServices()
    state = in_ballot(services)
    state, replies = run(services, "1", "#", "1", "1", "-", state=state)
    assert keys(replies[-2].lines)[0] == "invalid_key" and services.texted == []
    assert replies[-1].ends and keys(replies[-1].lines) == ["goodbye"]


# --- The stored state ------------------------------------------------------------------------


def test_the_state_survives_its_json_form():
    services = FakeServices()
    state = in_ballot(services)
    state, _ = run(services, "1", "*", state=state)
    assert State.from_dict(json.loads(json.dumps(state.as_dict()))) == state


@pytest.mark.parametrize(
    "data", [{}, {"stage": "nowhere"}, {"stage": "ballot", "choices": "x"}, {"voter": 3}]
)
def test_a_state_of_another_format_is_refused(data):
    with pytest.raises(ValueError):
        State.from_dict(data)


def test_an_ended_conversation_only_says_goodbye():
    state, reply = dialogue.answer(State(stage=Stage.ENDED), Input("1"), FakeServices())
    assert reply.ends and keys(reply.lines) == ["goodbye"]


def test_star_slows_the_speech_at_the_titulo_too_and_is_no_failure():
    state, replies = run(FakeServices(), "*")
    assert state.slow and state.failures == 0 and state.stage == Stage.TITULO
    assert keys(replies[-1].lines) == ["slower_on", "ask_titulo"]
