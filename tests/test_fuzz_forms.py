"""Property-based fuzzing (hypothesis) of every HTML form the app accepts.

Each form is posted, with a valid CSRF token, by the kind of user who may use it, with fields
drawn from hostile values: long strings, control characters, other scripts (CJK, Arabic,
Hebrew, emoji, bidi overrides), huge and negative numbers, malformed dates, missing fields and
fields sent several times. Most fields keep a valid value in most examples, so one odd field at
a time gets past the others' validation and reaches the service behind the form.

For every example: no 500; a refusal (any 4xx) leaves every table exactly as it was; a change to
the database by a staff form leaves an audit entry; and free text that was accepted is stored as
typed (or trimmed), never mangled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from opdigital.clock import now
from opdigital.extensions import db
from opdigital.fields import parse_reais
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import login_as
from tests.support.coordination import (
    cycle_form,
    edit_cycle_form,
    event_form,
    phase_form,
    proposal_form,
    token,
    voting_settings_form,
)
from tests.support.coordination import world as coordination_world
from tests.support.form_fuzz import audit_count, check_answer, table_digests

pytestmark = pytest.mark.fuzz

EXAMPLES = 30
UNLIMITED = "100000 per minute"
LIMIT_SETTINGS = (
    "LOGIN_LIMIT_PER_IP",
    "LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT",
    "LOGIN_FAILURES_PER_ACCOUNT",
    "PROPOSAL_SUBMIT_LIMIT_PER_IP",
    "VOTE_LIMIT_PER_IP",
    "VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL",
    "VOTER_FAILURES_PER_ADDRESS",
    "VOTER_FAILURES_PER_CREDENTIAL",
    "SUBJECT_REQUEST_LIMIT_PER_IP",
    "SUBJECT_REQUEST_LIMIT_PER_CONTACT",
)
VOTERS = EXAMPLES * 2 + 5

# --- hostile values ------------------------------------------------------------------------

_ODD_CHARACTERS = list(
    "中文字符漢字日本語한국어עבריתالعربيةفارسی😀👩‍👩‍👧🇧🇷\u202e\u202d\u200b\u200f\ufeff"
    "\t\r\n\x01\x07\x1b\x1f\x7f\x85\xa0\u2028\u00ad'\"<>&%;\\/{}$"
)
TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40),  # any script, control characters, NUL
    st.text(st.sampled_from(_ODD_CHARACTERS), min_size=1, max_size=40),
    # Beyond every length limit, in one and several bytes per character.
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["a", "é", "中", "😀", " ", "\n"]),
        st.integers(150, 12_000),
    ),
)
NUMBER = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from(
        [
            "-1",
            "0",
            "-0",
            "1e309",
            "NaN",
            "inf",
            "9" * 400,
            "1.000.000,00",
            "-5,00",
            "1,2,3",
            "0x10",
            "２０２６",
            "٣",
            "1_000",
            " 7 ",
            "2147483648",
            "-2147483649",
            "99999999999,99",
        ]
    ),
)
DATE = st.one_of(
    st.dates().map(str),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    st.sampled_from(
        [
            "0000-00-00",
            "9999-12-31T23:59",
            "2026-02-30",
            "31/12/1990",
            "2026-13-01T25:61",
            "1-1-1",
            "2026-03-01T",
            "T10:00",
            "0001-01-01T00:00",
        ]
    ),
)
HOSTILE = st.one_of(TEXT, NUMBER, DATE)


def odd_values(valid: str) -> st.SearchStrategy[list[str]]:
    """What an odd field sends: a hostile value, nothing at all, or several values."""
    return st.one_of(
        HOSTILE.map(lambda value: [value]),
        HOSTILE.map(lambda value: [value]),
        st.just([]),
        st.lists(st.one_of(st.just(valid), HOSTILE), min_size=2, max_size=3),
    )


def form_data(fields: dict[str, str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """(name, value) pairs: one to three fields odd, the others valid, now and then a stray one.

    Keeping most fields valid lets each odd one get past the others' validation, down to the
    service behind the form.
    """

    @st.composite
    def pairs(draw) -> list[tuple[str, str]]:
        odd = draw(st.sets(st.sampled_from(sorted(fields)), max_size=min(3, len(fields))))
        sent = []
        for name, valid in fields.items():
            values = draw(odd_values(valid)) if name in odd else [valid]
            sent.extend((name, value) for value in values)
        stray = st.tuples(st.sampled_from(["extra", "id", "role", "__class__"]), HOSTILE)
        return sent + draw(st.lists(stray, max_size=1))

    return pairs()


# --- the forms -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FormCase:
    """One form: where it posts, who posts it, its fields with a valid value each."""

    url: Callable[[SimpleNamespace], str]
    fields: Callable[[SimpleNamespace], dict[str, str]]
    role: str | None = None  # a staff role, or None for the public
    # Fields stored as free text: accepted values must be found in the database as typed.
    text: frozenset[str] = frozenset()
    # Runs before each example (e.g. identify a voter); returns False to skip the example.
    prepare: Callable | None = None
    staff: bool = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "staff", self.role is not None)


def _identify(app, client, w: SimpleNamespace) -> bool:
    """Identify the next unused voter of the open cycle, so the ballot steps can be reached."""
    number = w.titulos.pop()
    data = {"csrf_token": _csrf(app, client), "titulo": number, "birth_date": "17/05/1980"}
    return client.post(f"/ciclos/{w.voting_slug}/votar", data=data).status_code == 303


def _identify_and_fill(app, client, w: SimpleNamespace) -> bool:
    if not _identify(app, client, w):
        return False
    data = {
        "csrf_token": _csrf(app, client),
        "action": "review",
        "choice": [str(i) for i in w.ids[:2]],
    }
    return client.post(f"/ciclos/{w.voting_slug}/votar/cedula", data=data).status_code == 303


def _restore_slug(app, client, w: SimpleNamespace) -> bool:
    """Give the edited cycle its slug back: an accepted odd slug must not 404 the rest."""
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE cycle SET slug = :slug WHERE id = :id"),
            {"slug": w.slug, "id": w.cycle_id},
        )
        db.session.commit()
    return True


FORMS: dict[str, FormCase] = {
    "login": FormCase(
        url=lambda w: "/login",
        fields=lambda w: {"email": w.coordinator_email, "password": factories.PASSWORD},
    ),
    "submit_proposal": FormCase(
        url=lambda w: f"/ciclos/{w.open_slug}/propostas/nova",
        fields=lambda w: {
            "title": "Reforma da Praça da Estação",
            "description": "Nova iluminação, bancos e acessibilidade para a praça inteira.",
            "region": str(w.region_id),
            "place": "Praça Rui Barbosa",
            "estimated_cost": "1.250.000,00",
            "author_name": "Ana Souza",
            "contact": "ana.souza@example.com",
            "notify_by_email": "y",
            "latitude": "-19,9191",
            "longitude": "-43,9386",
        },
        text=frozenset({"title", "description", "place", "author_name"}),
    ),
    "subject_request": FormCase(
        url=lambda w: "/privacidade/pedidos",
        fields=lambda w: {
            "kind": "correction",
            "contact": "ana.souza@example.com",
            "details": "Meu nome na proposta está errado: é Ana Maria Souza.",
        },
        text=frozenset({"details"}),
    ),
    "identify": FormCase(
        url=lambda w: f"/ciclos/{w.voting_slug}/votar",
        fields=lambda w: {"titulo": w.titulos[0], "birth_date": "17/05/1980"},
    ),
    "ballot": FormCase(
        url=lambda w: f"/ciclos/{w.voting_slug}/votar/cedula",
        fields=lambda w: {"choice": str(w.ids[0]), "action": "review"},
        prepare=_identify,
    ),
    "voter_review": FormCase(
        url=lambda w: f"/ciclos/{w.voting_slug}/votar/revisao",
        fields=lambda w: {"confirm": "1"},
        prepare=_identify_and_fill,
    ),
    "new_cycle": FormCase(
        url=lambda w: "/staff/cycles/new",
        fields=lambda w: cycle_form(),
        role="coordinator",
        text=frozenset({"title", "description"}),
    ),
    "edit_cycle": FormCase(
        url=lambda w: f"/staff/cycles/{w.slug}/edit",
        fields=lambda w: edit_cycle_form(w.slug),
        role="coordinator",
        text=frozenset({"title", "description"}),
        prepare=_restore_slug,
    ),
    "transition": FormCase(
        url=lambda w: f"/staff/cycles/{w.slug}/transition",
        fields=lambda w: {"target": "open_for_proposals"},
        role="coordinator",
    ),
    "new_phase": FormCase(
        url=lambda w: f"/staff/cycles/{w.slug}/phases/new",
        fields=lambda w: phase_form(),
        role="coordinator",
        text=frozenset({"name", "description"}),
    ),
    "edit_phase": FormCase(
        url=lambda w: f"/staff/phases/{w.phase_id}/edit",
        fields=lambda w: {
            "kind": "proposals",
            "name": "Propostas",
            "description": "",
            "position": "0",
            "starts_at": "2026-03-02T00:00",
            "ends_at": "2026-04-01T00:00",
        },
        role="admin",
        text=frozenset({"name", "description"}),
    ),
    "new_event": FormCase(
        url=lambda w: f"/staff/cycles/{w.slug}/events/new",
        fields=lambda w: event_form(w),
        role="coordinator",
        text=frozenset({"title", "description", "place"}),
    ),
    "edit_event": FormCase(
        url=lambda w: f"/staff/events/{w.event_id}/edit",
        fields=lambda w: {
            "kind": "assembly",
            "title": "Assembleia",
            "description": "",
            "starts_at": "2026-12-05T09:00",
            "ends_at": "2026-12-05T12:00",
            "place": "Escola Estadual",
            "region_id": "",
        },
        role="coordinator",
        text=frozenset({"title", "description", "place"}),
    ),
    "budgets_manual": FormCase(
        url=lambda w: f"/staff/cycles/{w.slug}/budgets",
        fields=lambda w: {
            "action": "manual",
            f"region_{w.region_id}": "1.000.000,00",
            f"region_{w.other_region_id}": "2.000.000,00",
        },
        role="coordinator",
    ),
    "budgets_formula": FormCase(
        url=lambda w: f"/staff/cycles/{w.slug}/budgets",
        fields=lambda w: {"action": "formula", "equal_share_percent": "50"},
        role="coordinator",
    ),
    "new_proposal": FormCase(
        url=lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        fields=proposal_form,
        role="coordinator",
        text=frozenset({"title", "description", "place", "author_name"}),
    ),
    "staff_review": FormCase(
        url=lambda w: f"/staff/proposals/{w.code}/review",
        fields=lambda w: {
            "technical_opinion": "Viável.",
            "decision": "reject",
            "reviewed_cost": "900.000,00",
            "rejection_reason": "Fora da competência do município.",
        },
        role="coordinator",
        text=frozenset({"technical_opinion"}),
    ),
    "result": FormCase(
        url=lambda w: f"/staff/proposals/{w.on_ballot_code}/result",
        fields=lambda w: {"selected": "yes"},
        role="coordinator",
    ),
    "execution": FormCase(
        url=lambda w: f"/staff/proposals/{w.selected_code}/execution",
        fields=lambda w: {"status": "tendering", "note": "Edital publicado."},
        role="coordinator",
        text=frozenset({"note"}),
    ),
    "location": FormCase(
        url=lambda w: f"/staff/proposals/{w.selected_code}/location",
        fields=lambda w: {"latitude": "-19.9191", "longitude": "-43.9386", "place": "Praça Sete"},
        role="coordinator",
        text=frozenset({"place"}),
    ),
    "voting_settings": FormCase(
        url=lambda w: f"/staff/cycles/{w.slug}/voting-settings",
        fields=lambda w: voting_settings_form(),
        role="coordinator",
    ),
    "phone_settings": FormCase(
        url=lambda w: f"/staff/cycles/{w.voting_slug}/phone",
        fields=lambda w: {"voice": "y", "text": "y"},
        role="coordinator",
    ),
    "new_voting_point": FormCase(
        url=lambda w: "/staff/voting-points/new",
        fields=lambda w: {
            "name": "Posto da Praça Sete",
            "region": str(w.region_id),
            "addresses": "10.1.0.0/24\n2001:db8::1",
            "generate_token": "y",
        },
        role="coordinator",
        text=frozenset({"name"}),
    ),
    "edit_voting_point": FormCase(
        url=lambda w: f"/staff/voting-points/{w.point_id}",
        fields=lambda w: {
            "name": "Posto de votação",
            "region": "",
            "addresses": "10.2.0.1",
            "generate_token": "",
            "action": "save",
        },
        role="coordinator",
        text=frozenset({"name"}),
    ),
    "new_account": FormCase(
        url=lambda w: "/staff/accounts/new",
        fields=lambda w: {
            "email": "nova.pessoa@pbh.gov.br",
            "name": "Nova Pessoa",
            "role": "auditor",
            "password": "uma senha bem comprida",
            "confirm": "uma senha bem comprida",
        },
        role="admin",
        text=frozenset({"name"}),
    ),
    "edit_account": FormCase(
        url=lambda w: f"/staff/accounts/{w.other_user_id}",
        fields=lambda w: {"name": "Maria Souza", "role": "auditor", "active": "y"},
        role="admin",
        text=frozenset({"name"}),
    ),
    "set_password": FormCase(
        url=lambda w: f"/staff/accounts/{w.other_user_id}/password",
        fields=lambda w: {
            "password": "outra senha bem comprida",
            "confirm": "outra senha bem comprida",
        },
        role="admin",
    ),
}

# --- the world and the checks ---------------------------------------------------------------


def _seed() -> SimpleNamespace:
    w = coordination_world()
    w.coordinator_email = factories.user("coordinator").email
    w.users = {role: factories.user(role).id for role in ("admin", "coordinator")}
    w.other_user_id = factories.user("coordinator").id
    opens = now() - timedelta(days=2)
    open_cycle = factories.cycle(
        state="open_for_proposals",
        phases=[("proposals", opens, opens + timedelta(days=30))],
    )
    w.open_slug = open_cycle.slug
    voting = vs.voting_cycle()
    w.voting_slug, w.ids = voting.slug, voting.ids
    w.titulos = [vs.make_titulo(100 + n) for n in range(VOTERS)]
    for number in w.titulos:
        vs.register(number)
    w.point_id = vs.voting_point("fuzz-point-token").id
    return w


@pytest.fixture
def seeded(app, settings):
    settings(**dict.fromkeys(LIMIT_SETTINGS, UNLIMITED))
    with app.app_context():
        w = _seed()
        db.session.remove()
    return w


def _csrf(app, client) -> str:
    return token(app, client)


def _check(app, case: FormCase, pairs, response, before: dict, audits: int) -> None:
    check_answer(
        app,
        response.status_code,
        pairs,
        before,
        audits,
        text=case.text,
        audited=case.staff,
        sent=f"{case.url} {pairs!r}"[:2000],
    )


@pytest.mark.parametrize("name", sorted(FORMS))
def test_form_survives_hostile_input(app, seeded, name):
    case = FORMS[name]
    fields = case.fields(seeded)
    url = case.url(seeded)

    @given(pairs=form_data(fields))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def post(pairs):
        # A fresh browser each time: a sign-in or a vote must not change the next example.
        client = app.test_client()
        if case.role:
            login_as(client, SimpleNamespace(id=seeded.users[case.role]))
        if case.prepare and not case.prepare(app, client, seeded):
            return
        with app.app_context():
            before, audits = table_digests(), audit_count()
            db.session.remove()
        data = MultiDict([("csrf_token", _csrf(app, client)), *pairs])
        response = client.post(url, data=data)
        _check(app, case, pairs, response, before, audits)

    post()


# --- regressions found by the fuzzing -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "form_field"),
    [
        (lambda w: f"/staff/cycles/{w.slug}/phases/new", "position"),
        (lambda w: f"/staff/cycles/{w.slug}/budgets", "equal_share_percent"),
        (lambda w: f"/staff/cycles/{w.slug}/voting-settings", "min_choices"),
        (lambda w: f"/staff/cycles/{w.slug}/edit", "edition"),
    ],
)
def test_a_number_too_large_for_a_float_is_a_message_not_a_500(app, seeded, url, form_field):
    # WTForms' NumberRange raised OverflowError on 400 nines (int too large for a float).
    case = {c.url(seeded): c for c in FORMS.values() if c.staff}[url(seeded)]
    client = app.test_client()
    login_as(client, SimpleNamespace(id=seeded.users["coordinator"]))
    data = case.fields(seeded) | {form_field: "9" * 400, "csrf_token": _csrf(app, client)}
    if form_field == "equal_share_percent":
        data["action"] = "formula"
    response = client.post(url(seeded), data=data)
    assert response.status_code == 422


@pytest.mark.parametrize("typed", ["9" * 400, "1" + "0" * 15 + ",00", "9" * 16])
def test_absurd_amounts_are_not_amounts(typed):
    with pytest.raises(ValueError):
        parse_reais(typed)


def test_the_largest_plausible_amount_is_still_read():
    assert parse_reais("999.999.999.999.999,99") == 99_999_999_999_999_999
