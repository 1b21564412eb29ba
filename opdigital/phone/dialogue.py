"""The voting dialogue of the phone line and of text messages: a pure state machine.

One engine for every phone channel. It knows nothing of HTTP, TwiML, SMS or the database: an
adapter (`voice.py`, `text.py`) turns the provider's webhook into an `Input`, calls `begin` or
`answer` with the conversation's `State` and a `Services` port (`services.py`, which runs the
web's own eligibility, limits, ballot rules and cast), and turns the `Reply` back into what the
provider plays or sends. What the voter hears is a list of `Line`s (a key and its values):
`prompts.py` words them, in Portuguese first.

The keys mean the same everywhere, so they are easy to remember (docs/phone.md):
1 yes / choose / confirm, 2 next / change, 3 back, 9 skip the region, 0 repeat, # the summary,
* slower speech (voice). Text messages may send the words instead (`text.py`).

What the state keeps between two webhooks (`State`): the step, the cycle, the título's voter key
between the título and the birth date (never the título), the identified voter's key and home,
the choices so far and, after the vote, the receipt code for a few minutes so it can be read
again. The título key is dropped as soon as the birth date is checked; the voter and the choices
as soon as the vote is cast (as the web flow does, voting/flow.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Protocol

from opdigital.counting import ballot_rules as rules
from opdigital.counting.ballot_rules import BallotProject, BallotRule, RuleKind, validate_ballot

# Consecutive timeouts or invalid keys at one question, and refused identifications in one
# call, after which the line says goodbye.
MAX_FAILURES = 3

TITULO_DIGITS = 12
BIRTH_DATE_DIGITS = 8  # DDMMAAAA

CHOOSE, NEXT, BACK, SKIP, REPEAT, SUMMARY, SLOWER = "1", "2", "3", "9", "0", "#", "*"
CONFIRM, CHANGE = "1", "2"
TEXT_RECEIPT, END = "1", "2"

# Problems an added choice can cause (the ballot cannot take it); the others (too few, under
# the minimum share) are about what is still missing, told at the confirmation.
_OVER_LIMIT = (
    rules.TOO_MANY,
    rules.OVER_BUDGET,
    rules.TWO_IN_REGION,
    rules.TOO_MANY_IN_REGION,
    rules.OVER_BUDGET_IN_REGION,
)


class Stage(StrEnum):
    CYCLE = "cycle"
    TITULO = "titulo"
    BIRTH_DATE = "birth_date"
    BALLOT = "ballot"
    SUMMARY = "summary"
    RECEIPT = "receipt"
    ENDED = "ended"


class Expect(StrEnum):
    """What the adapter asks the provider to collect next."""

    KEY = "key"  # one key
    CYCLE = "cycle"  # one key: a cycle's number
    TITULO = "titulo"  # 12 digits
    BIRTH_DATE = "birth_date"  # 8 digits


@dataclass(frozen=True)
class Line:
    """Something the voter hears (or reads): a prompt's key and the values it names."""

    key: str
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """What to say, and what to collect next (None: the conversation ends after the lines)."""

    lines: tuple[Line, ...]
    expect: Expect | None
    slow: bool = False

    @property
    def ends(self) -> bool:
        return self.expect is None


@dataclass(frozen=True)
class Input:
    """What came back: the keys pressed (or the words' keys), or nothing (a timeout)."""

    keys: str = ""
    timed_out: bool = False


TIMEOUT = Input(timed_out=True)


# --- What the engine asks of the services ---------------------------------------------------


@dataclass(frozen=True)
class CycleOption:
    slug: str
    name: str


@dataclass(frozen=True)
class Voter:
    """An identified voter as the state keeps them: the voter key and their home."""

    voter_key: str
    region_id: int | None
    school_id: int | None = None


@dataclass(frozen=True)
class Work:
    """A work as the line reads it: its number on the phone ballot, title, cost and region."""

    number: int
    proposal_id: int
    title: str
    cost_cents: int
    region_id: int | None
    region_name: str  # "" for a city-wide work


@dataclass(frozen=True)
class PhoneBallot:
    """The ballot one voter is offered: the works they may choose, in the line's fixed order
    (grouped by region), and what `validate_ballot` needs to judge their choices."""

    rule: BallotRule
    projects: tuple[BallotProject, ...]
    works: tuple[Work, ...]
    home: int | None

    def work(self, proposal_id: int) -> Work | None:
        return next((w for w in self.works if w.proposal_id == proposal_id), None)

    def problems(self, choices: Sequence[int]) -> list[rules.Problem]:
        return validate_ballot(self.rule, self.projects, list(choices), home=self.home)


class Outcome(StrEnum):
    IDENTIFIED = "identified"
    NOT_ELIGIBLE = "not_eligible"
    ALREADY_VOTED = "already_voted"
    RATE_LIMITED = "rate_limited"
    CLOSED = "closed"
    CAST = "cast"
    REFUSED = "refused"


@dataclass(frozen=True)
class Result:
    """A service's answer: the outcome and, as it applies, the voter, the receipt code, the
    minutes to wait and why (rate limits), or the ballot's problems."""

    outcome: Outcome
    voter: Voter | None = None
    receipt: str = ""
    minutes: int = 0
    reason: str = ""
    problems: tuple[rules.Problem, ...] = ()


class Services(Protocol):
    """The port the engine runs on (`services.PhoneServices` in the app, fakes in tests)."""

    def cycles(self) -> list[CycleOption]:
        """The cycles open for a vote on this channel now."""

    def titulo_key(self, digits: str) -> str:
        """The voter key of 12 keyed digits (whatever their check digits)."""

    def identify(self, slug: str, titulo_key: str, birth_date: date) -> Result:
        """IDENTIFIED (with the voter), NOT_ELIGIBLE, ALREADY_VOTED, RATE_LIMITED or CLOSED."""

    def ballot(self, slug: str, voter: Voter) -> PhoneBallot:
        """What this voter may choose from."""

    def cast(self, slug: str, voter: Voter, choices: Sequence[int]) -> Result:
        """CAST (with the receipt), ALREADY_VOTED, CLOSED or REFUSED (with the problems)."""

    def can_text_receipt(self) -> bool:
        """True when a receipt may be sent by text message to this caller."""

    def text_receipt(self, code: str) -> bool:
        """Send the receipt code to the caller by text message; False when it failed."""


# --- The state between webhooks ---------------------------------------------------------------


@dataclass(frozen=True)
class State:
    stage: Stage = Stage.CYCLE
    cycle: str = ""
    cycle_name: str = ""
    titulo_key: str = ""
    voter: Voter | None = None
    position: int = 0  # index of the work being read
    choices: tuple[int, ...] = ()
    failures: int = 0  # consecutive timeouts or invalid keys at this question
    refusals: int = 0  # identifications refused in this conversation
    slow: bool = False
    receipt: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["choices"] = list(self.choices)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> State:
        """The state stored by `as_dict`; ValueError when it is not one (an older format)."""
        try:
            voter = data.get("voter")
            return cls(
                stage=Stage(data["stage"]),
                cycle=str(data["cycle"]),
                cycle_name=str(data["cycle_name"]),
                titulo_key=str(data["titulo_key"]),
                voter=Voter(**voter) if voter is not None else None,
                position=int(data["position"]),
                choices=tuple(int(c) for c in data["choices"]),
                failures=int(data["failures"]),
                refusals=int(data["refusals"]),
                slow=bool(data["slow"]),
                receipt=str(data["receipt"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError("not a phone dialogue state") from e


# --- The engine -----------------------------------------------------------------------------


def begin(services: Services, only: str | None = None) -> tuple[State, Reply]:
    """A new call (or conversation): the greeting, then the cycle or the título. `only`: the
    slug of the one cycle this number serves (a line per cycle), instead of a menu."""
    options = services.cycles()
    if only is not None:
        options = [o for o in options if o.slug == only]
    if not options:
        return State(stage=Stage.ENDED), _end(State(), Line("no_vote_open"))
    greeting = [Line("welcome"), Line("slower_hint")]
    if len(options) == 1:
        state = State(stage=Stage.TITULO, cycle=options[0].slug, cycle_name=options[0].name)
        greeting.append(Line("cycle_chosen", {"name": options[0].name}))
        return state, _reply(state, *greeting, Line("ask_titulo"), expect=Expect.TITULO)
    state = State(stage=Stage.CYCLE)
    return state, _reply(state, *greeting, *_cycle_menu(options), expect=Expect.CYCLE)


def answer(state: State, given: Input, services: Services) -> tuple[State, Reply]:
    """The next step of the conversation, given what the voter keyed (or nothing)."""
    if state.stage == Stage.ENDED:
        return state, _end(state, Line("goodbye"))
    if given.keys == SLOWER:  # at any question: a título or a date never holds a star
        state = replace(state, slow=not state.slow)
        line = Line("slower_on" if state.slow else "slower_off")
        return state, _with_question(state, services, line)
    if given.timed_out or not given.keys:
        return _failed(state, services, Line("no_answer"))
    step = _STEPS[state.stage]
    return step(state, given.keys, services)


def _cycle_menu(options: Sequence[CycleOption]) -> list[Line]:
    numbered = enumerate(options, 1)
    choices = [Line("cycle_option", {"number": n, "name": o.name}) for n, o in numbered]
    return [Line("choose_cycle"), *choices]


def _choose_cycle(state: State, keys: str, services: Services):
    options = services.cycles()
    if not options:
        return state, _end(state, Line("no_vote_open"))
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if not keys.isdecimal() or not 1 <= int(keys) <= len(options):
        return _failed(state, services, Line("invalid_key"))
    chosen = options[int(keys) - 1]
    state = replace(
        state, stage=Stage.TITULO, cycle=chosen.slug, cycle_name=chosen.name, failures=0
    )
    return state, _reply(
        state, Line("cycle_chosen", {"name": chosen.name}), Line("ask_titulo"), expect=Expect.TITULO
    )


def _take_titulo(state: State, keys: str, services: Services):
    digits = keys.rstrip("#")
    if len(digits) != TITULO_DIGITS or not _keyed_digits(digits):
        return _failed(state, services, Line("titulo_format"))
    state = replace(
        state, stage=Stage.BIRTH_DATE, titulo_key=services.titulo_key(digits), failures=0
    )
    return state, _reply(state, Line("ask_birth_date"), expect=Expect.BIRTH_DATE)


def _take_birth_date(state: State, keys: str, services: Services):
    born = parse_birth_date(keys.rstrip("#"))
    if born is None:
        return _failed(state, services, Line("birth_date_format"))
    result = services.identify(state.cycle, state.titulo_key, born)
    state = replace(state, titulo_key="", failures=0)  # the key is needed no more
    if result.outcome == Outcome.NOT_ELIGIBLE:
        state = replace(state, stage=Stage.TITULO, refusals=state.refusals + 1)
        if state.refusals >= MAX_FAILURES:
            return state, _end(state, Line("not_eligible"), Line("goodbye_failures"))
        return state, _reply(state, Line("not_eligible"), Line("ask_titulo"), expect=Expect.TITULO)
    if result.outcome != Outcome.IDENTIFIED or result.voter is None:
        return state, _end(state, _refusal_line(result))
    state = replace(state, stage=Stage.BALLOT, voter=result.voter, position=0, choices=())
    ballot = services.ballot(state.cycle, result.voter)
    if not ballot.works:
        return state, _end(state, Line("no_works"))
    opening = (Line("identified"), _rule_line(ballot), Line("keys_help"))
    return state, _reply(state, *opening, *_work_lines(state, ballot, announce_region=True))


def _ballot_key(state: State, keys: str, services: Services):
    ballot = services.ballot(state.cycle, _voter(state))
    works = ballot.works
    here = works[min(state.position, len(works) - 1)]
    if keys == CHOOSE:
        return _toggle(state, ballot, here)
    if keys == NEXT:
        if state.position + 1 >= len(works):
            return _to_summary(replace(state, failures=0), ballot, Line("end_of_ballot"))
        return _move(state, ballot, state.position + 1)
    if keys == BACK:
        if state.position == 0:
            state = replace(state, failures=0)
            return state, _reply(state, Line("first_work"), *_work_lines(state, ballot))
        return _move(state, ballot, state.position - 1)
    if keys == SKIP:
        following = _next_region_start(works, state.position)
        if following is None:
            return _to_summary(replace(state, failures=0), ballot, Line("end_of_ballot"))
        return _move(state, ballot, following)
    if keys == REPEAT:
        state = replace(state, failures=0)
        return state, _reply(state, *_work_lines(state, ballot, announce_region=True))
    if keys == SUMMARY:
        return _to_summary(replace(state, failures=0), ballot)
    return _failed(state, services, Line("invalid_key"))


def _toggle(state: State, ballot: PhoneBallot, here: Work):
    state = replace(state, failures=0)
    if here.proposal_id in state.choices:
        state = replace(state, choices=tuple(c for c in state.choices if c != here.proposal_id))
        said = Line("unchosen", {"number": here.number, "count": len(state.choices)})
        return state, _reply(state, said, _menu_line(state, here))
    kept, replaced = _making_room(ballot.rule, ballot, state.choices, here)
    tentative = tuple(sorted((*kept, here.proposal_id)))
    over = [p for p in ballot.problems(tentative) if p.code in _OVER_LIMIT]
    if over:
        return state, _reply(state, _problem_line(over[0], ballot), _menu_line(state, here))
    state = replace(state, choices=tentative)
    lines = [_chosen_line(ballot, state, here, replaced)]
    if _ballot_full(ballot, tentative):
        return _to_summary(state, ballot, *lines)
    if _region_full(ballot, tentative, here):
        following = _next_region_start(ballot.works, state.position)
        if following is None:
            return _to_summary(state, ballot, *lines)
        return _move(state, ballot, following, *lines)
    if state.position + 1 >= len(ballot.works):
        return _to_summary(state, ballot, *lines, Line("end_of_ballot"))
    return _move(state, ballot, state.position + 1, *lines)


def _making_room(rule: BallotRule, ballot: PhoneBallot, choices, here: Work):
    """(choices kept, the work replaced or None): where only one work may be chosen (in all, or
    in a region), choosing another replaces it, as a radio button does on the web."""
    if rule.kind == RuleKind.ONE_CITY_WIDE:
        same = list(choices)
    elif rule.kind == RuleKind.ONE_PER_REGION:
        same = [c for c in choices if _region_of(ballot, c) == here.region_id]
    else:
        return tuple(choices), None
    kept = tuple(c for c in choices if c not in same)
    replaced = ballot.work(same[0]) if same else None
    return kept, replaced


def _region_of(ballot: PhoneBallot, proposal_id: int) -> int | None:
    work = ballot.work(proposal_id)
    return work.region_id if work else None


def _ballot_full(ballot: PhoneBallot, choices: tuple[int, ...]) -> bool:
    """True when no further work could be added (one city-wide, or the maximum reached)."""
    low, high = rules.overall_limits(ballot.rule)
    return ballot.rule.kind == RuleKind.ONE_CITY_WIDE or (high is not None and len(choices) >= high)


def _region_full(ballot: PhoneBallot, choices: tuple[int, ...], here: Work) -> bool:
    """True when the work's region can take no further choice (one per region, or its max)."""
    _, high = rules.region_limits(ballot.rule)
    if high is None:
        return False
    in_region = [c for c in choices if _region_of(ballot, c) == here.region_id]
    return len(in_region) >= high


def _move(state: State, ballot: PhoneBallot, position: int, *before: Line):
    old_region = ballot.works[state.position].region_id if ballot.works else None
    state = replace(state, position=position, failures=0)
    announce = ballot.works[position].region_id != old_region
    return state, _reply(state, *before, *_work_lines(state, ballot, announce_region=announce))


def _next_region_start(works: Sequence[Work], position: int) -> int | None:
    region = works[position].region_id
    for index in range(position + 1, len(works)):
        if works[index].region_id != region:
            return index
    return None


def _to_summary(state: State, ballot: PhoneBallot, *before: Line):
    state = replace(state, stage=Stage.SUMMARY, failures=0)
    return state, _reply(state, *before, *_summary_lines(state, ballot))


def _summary_key(state: State, keys: str, services: Services):
    ballot = services.ballot(state.cycle, _voter(state))
    if keys == REPEAT:
        state = replace(state, failures=0)
        return state, _reply(state, *_summary_lines(state, ballot))
    if keys == CHANGE:
        state = replace(state, stage=Stage.BALLOT, position=0, failures=0)
        return state, _reply(state, *_work_lines(state, ballot, announce_region=True))
    if keys != CONFIRM:
        return _failed(state, services, Line("invalid_key"))
    problems = ballot.problems(state.choices)
    if problems:
        state = replace(state, stage=Stage.BALLOT, position=0, failures=0)
        lines = (_problem_line(problems[0], ballot), *_work_lines(state, ballot, True))
        return state, _reply(state, *lines)
    result = services.cast(state.cycle, _voter(state), state.choices)
    if result.outcome == Outcome.REFUSED:
        state = replace(state, stage=Stage.BALLOT, position=0, failures=0)
        first = result.problems[0] if result.problems else rules.Problem(rules.EMPTY)
        return state, _reply(state, _problem_line(first, ballot), *_work_lines(state, ballot, True))
    if result.outcome != Outcome.CAST:
        return replace(state, voter=None, choices=()), _end(state, _refusal_line(result))
    # As on the web: who voted and what they chose are forgotten; only the receipt stays.
    state = replace(state, stage=Stage.RECEIPT, voter=None, choices=(), receipt=result.receipt)
    return state, _reply(state, Line("cast_done"), *_receipt_lines(state, services))


def _receipt_key(state: State, keys: str, services: Services):
    if keys == REPEAT:
        state = replace(state, failures=0)
        return state, _reply(state, *_receipt_lines(state, services))
    if keys == TEXT_RECEIPT and services.can_text_receipt():
        sent = services.text_receipt(state.receipt)
        ended = replace(state, stage=Stage.ENDED, receipt="")
        return ended, _end(
            ended, Line("receipt_texted" if sent else "receipt_text_failed"), Line("goodbye")
        )
    if keys == END:
        ended = replace(state, stage=Stage.ENDED, receipt="")
        return ended, _end(ended, Line("goodbye"))
    return _failed(state, services, Line("invalid_key"))


_STEPS = {
    Stage.CYCLE: _choose_cycle,
    Stage.TITULO: _take_titulo,
    Stage.BIRTH_DATE: _take_birth_date,
    Stage.BALLOT: _ballot_key,
    Stage.SUMMARY: _summary_key,
    Stage.RECEIPT: _receipt_key,
}


# --- Failures, questions and lines ------------------------------------------------------------


def _failed(state: State, services: Services, why: Line):
    """A timeout or an invalid answer: say so and ask again, or, the third time, say goodbye.
    After the vote, silence simply ends the call (the receipt was read twice)."""
    if state.stage == Stage.RECEIPT and why.key == "no_answer":
        ended = replace(state, stage=Stage.ENDED, receipt="")
        return ended, _end(ended, Line("goodbye"))
    state = replace(state, failures=state.failures + 1)
    if state.failures >= MAX_FAILURES:
        ended = replace(state, stage=Stage.ENDED, titulo_key="", voter=None, choices=(), receipt="")
        return ended, _end(ended, why, Line("goodbye_failures"))
    return state, _with_question(state, services, why)


def _with_question(state: State, services: Services, *before: Line) -> Reply:
    """`before`, then the current question again."""
    if state.stage == Stage.CYCLE:
        return _reply(state, *before, *_cycle_menu(services.cycles()), expect=Expect.CYCLE)
    if state.stage == Stage.TITULO:
        return _reply(state, *before, Line("ask_titulo"), expect=Expect.TITULO)
    if state.stage == Stage.BIRTH_DATE:
        return _reply(state, *before, Line("ask_birth_date"), expect=Expect.BIRTH_DATE)
    if state.stage == Stage.RECEIPT:
        return _reply(state, *before, *_receipt_lines(state, services))
    ballot = services.ballot(state.cycle, _voter(state))
    if state.stage == Stage.SUMMARY:
        return _reply(state, *before, *_summary_lines(state, ballot))
    return _reply(state, *before, *_work_lines(state, ballot))


def _work_lines(state: State, ballot: PhoneBallot, announce_region: bool = False) -> list[Line]:
    work = ballot.works[state.position]
    lines = []
    if announce_region:
        in_region = sum(1 for w in ballot.works if w.region_id == work.region_id)
        lines.append(Line("region", {"name": work.region_name, "count": in_region}))
    chosen = work.proposal_id in state.choices
    lines.append(
        Line(
            "work",
            {
                "number": work.number,
                "title": work.title,
                "cost_cents": work.cost_cents,
                "chosen": chosen,
            },
        )
    )
    lines.append(_menu_line(state, work))
    return lines


def _menu_line(state: State, work: Work) -> Line:
    return Line("work_menu", {"chosen": work.proposal_id in state.choices})


def _summary_lines(state: State, ballot: PhoneBallot) -> list[Line]:
    works = [w for w in ballot.works if w.proposal_id in state.choices]
    lines = [Line("summary", {"count": len(works)})]
    lines += [
        Line("summary_work", {"number": w.number, "title": w.title, "cost_cents": w.cost_cents})
        for w in works
    ]
    if ballot.rule.kind == RuleKind.KNAPSACK and works:
        lines.append(Line("summary_total", {"total_cents": sum(w.cost_cents for w in works)}))
    lines.append(Line("summary_menu"))
    return lines


def _receipt_lines(state: State, services: Services) -> list[Line]:
    code = state.receipt
    return [
        Line("receipt_code", {"code": code}),
        Line("receipt_again", {"code": code}),
        Line("receipt_menu", {"can_text": services.can_text_receipt()}),
    ]


def _chosen_line(ballot: PhoneBallot, state: State, here: Work, replaced: Work | None) -> Line:
    values = {"number": here.number, "count": len(state.choices)}
    if replaced is not None:
        values["replaced"] = replaced.number
    if ballot.rule.kind == RuleKind.KNAPSACK:
        values["left_cents"] = _budget_left(ballot, state.choices, here.region_id)
    return Line("chosen", values)


def _budget_left(ballot: PhoneBallot, choices: Sequence[int], region_id: int | None) -> int:
    rule = ballot.rule
    if rule.by_region:
        spent = sum(
            w.cost_cents
            for w in ballot.works
            if w.proposal_id in choices and w.region_id == region_id
        )
        return rule.group_budget(region_id) - spent
    spent = sum(w.cost_cents for w in ballot.works if w.proposal_id in choices)
    return (rule.budget_cents or 0) - spent


def _rule_line(ballot: PhoneBallot) -> Line:
    rule = ballot.rule
    low, high = rules.overall_limits(rule)
    region_low, region_high = rules.region_limits(rule)
    return Line(
        "rule",
        {
            "kind": rule.kind,
            "min": low,
            "max": high,
            "region_min": region_low,
            "region_max": region_high,
            "per_region": rule.by_region,
            "budget_cents": rule.budget_cents,
            "works": len(ballot.works),
            "regions": len({w.region_id for w in ballot.works}),
        },
    )


def _problem_line(problem: rules.Problem, ballot: PhoneBallot) -> Line:
    detail = dict(problem.detail)
    if "region_id" in detail:
        names = {w.region_id: w.region_name for w in ballot.works}
        detail["region_name"] = names.get(detail["region_id"], "")
    return Line("problem", {"code": problem.code, **detail})


def _refusal_line(result: Result) -> Line:
    if result.outcome == Outcome.RATE_LIMITED:
        return Line("rate_limited", {"minutes": result.minutes, "reason": result.reason})
    if result.outcome == Outcome.ALREADY_VOTED:
        return Line("already_voted")
    return Line("voting_closed")


def _voter(state: State) -> Voter:
    if state.voter is None:  # a ballot step always has one; a corrupt state is refused earlier
        raise ValueError("no voter in the ballot step")
    return state.voter


def _reply(state: State, *lines: Line, expect: Expect = Expect.KEY) -> Reply:
    return Reply(tuple(lines), expect, state.slow)


def _end(state: State, *lines: Line) -> Reply:
    return Reply(tuple(lines), None, state.slow)


def _keyed_digits(text: str) -> bool:
    """True for the digits a keypad sends (ASCII 0-9: "²" or "٣" are digits to Python)."""
    return text.isascii() and text.isdigit()


def parse_birth_date(digits: str) -> date | None:
    """DDMMAAAA as keyed, or None when it is not a date."""
    if len(digits) != BIRTH_DATE_DIGITS or not _keyed_digits(digits):
        return None
    try:
        return date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        return None
