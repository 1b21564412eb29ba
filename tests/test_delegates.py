"""Delegates (issue 12, point 5): the roll, its CSV import, delegate codes, and the Regional
Forum voting by code on the same ballot, board and tally."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.cycles.lifecycle import advance
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.delegates import codes
from opdigital.delegates.models import Delegate
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.registry.models import RegistryEntry, delegate_scope
from opdigital.tally.models import Tally
from opdigital.voting.models import Participation
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import csrf_token, english_client
from tests.support.coordination import post, sign_in, voting_settings_form
from tests.support.pages import page_problems
from tests.support.voting_web import confirm, post_ballot, region_field, text

SLIP_CODE = re.compile(r'<code class="slip-code">([A-Z0-9]{5}-[A-Z0-9]{5})</code>')


# --- codes, without the app ---------------------------------------------------------------------


def test_codes_round_trip_and_catch_every_single_typo():
    code = codes.new_code()
    assert len(code) == codes.LENGTH and set(code) <= set(codes.ALPHABET)
    assert codes.normalise(codes.pretty(code).lower()) == code
    assert codes.normalise(f" {code[:3]} {code[3:]} ") == code
    for position in range(codes.LENGTH):
        for symbol in codes.ALPHABET:
            if symbol != code[position]:
                typo = code[:position] + symbol + code[position + 1 :]
                assert not codes.is_well_formed(typo)
    for position in range(codes.RANDOM_LENGTH - 1):  # neighbours swapped
        swapped = list(code)
        swapped[position], swapped[position + 1] = swapped[position + 1], swapped[position]
        if swapped != list(code):
            assert not codes.is_well_formed("".join(swapped))
    assert not codes.is_well_formed("O" + code[1:])  # look-alikes are not in the alphabet
    assert not codes.is_well_formed(code[:-1])


# --- the roll -----------------------------------------------------------------------------------


@pytest.fixture
def staff(app):
    client = english_client(app)
    with app.app_context():
        sign_in(client, factories.user("coordinator"))
    return client


def _regional_cycle(app, **overrides) -> SimpleNamespace:
    with app.app_context():
        regions = [
            factories.region(slug="barreiro", name="Barreiro"),
            factories.region(slug="venda-nova", name="Venda Nova"),
        ]
        values = {"kind": "op-regional", "title": "OP Regional 2027"} | overrides
        cycle = factories.cycle(**values)
        event = factories.event(cycle, kind="assembly", title="Assembleia do Barreiro")
        return SimpleNamespace(
            slug=cycle.slug, cycle_id=cycle.id, regions=[r.id for r in regions], event_id=event.id
        )


def _delegates(app, w) -> list[Delegate]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Delegate).where(Delegate.cycle_id == w.cycle_id).order_by(Delegate.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_roll_add_edit_remove_with_audit(app, staff):
    w = _regional_cycle(app)
    base = f"/staff/cycles/{w.slug}/delegates"
    assert staff.get(base).status_code == 200
    added = post(
        app,
        staff,
        f"{base}/new",
        {
            "name": "Maria  da Silva",
            "role": "delegate",
            "region_id": str(w.regions[0]),
            "event_id": str(w.event_id),
        },
    )
    assert added.status_code == 302, text(added)
    [maria] = _delegates(app, w)
    assert (maria.name, maria.region_id, maria.event_id, maria.seat) == (
        "Maria da Silva",
        w.regions[0],
        w.event_id,
        None,
    )
    page = text(staff.get(base))
    assert "Maria da Silva" in page and "Barreiro" in page
    assert page_problems(page) == []
    assert page_problems(text(staff.get(f"{base}/new"))) == []
    assert page_problems(text(staff.get(f"{base}/{maria.id}/edit"))) == []
    assert f"/staff/cycles/{w.slug}/delegates" in text(staff.get(f"/staff/cycles/{w.slug}"))
    # A name with a control character, or without a region: refused with the field's message.
    bad = post(
        app,
        staff,
        f"{base}/new",
        {"name": "Jo\x0bão", "role": "delegate", "region_id": str(w.regions[0]), "event_id": ""},
    )
    assert bad.status_code == 422
    no_region = post(
        app,
        staff,
        f"{base}/new",
        {"name": "João", "role": "delegate", "region_id": "", "event_id": ""},
    )
    assert no_region.status_code == 422 and "Choose the delegate" in text(no_region)
    edited = post(
        app,
        staff,
        f"{base}/{maria.id}/edit",
        {
            "name": "Maria da Silva",
            "role": "comforca",
            "region_id": str(w.regions[1]),
            "event_id": "",
        },
    )
    assert edited.status_code == 302, text(edited)
    [maria] = _delegates(app, w)
    assert (maria.role, maria.region_id, maria.event_id) == ("comforca", w.regions[1], None)
    removed = post(app, staff, f"{base}/{maria.id}/delete")
    assert removed.status_code == 302
    assert _delegates(app, w) == []
    assert _actions(app)[-3:] == ["delegate.create", "delegate.update", "delegate.delete"]
    # Another cycle's delegate, or an unknown one: 404.
    assert staff.get(f"{base}/999999/edit").status_code == 404


def test_opca_seats_one_girl_and_one_boy_per_school(app, staff):
    with app.app_context():
        region = factories.region(slug="leste", name="Leste")
        school = factories.school(region, slug="em-leste", name="EM Leste")
        cycle = factories.cycle(kind="opca", title="OPCA 2026")
        slug, school_id, region_id = cycle.slug, school.id, region.id
    base = f"/staff/cycles/{slug}/delegates"

    def add(name, seat, role="delegate"):
        data = {
            "name": name,
            "role": role,
            "school_id": str(school_id),
            "seat": seat,
            "event_id": "",
        }
        return post(app, staff, f"{base}/new", data)

    assert add("Ana", "girl").status_code == 302
    assert add("Beto", "boy").status_code == 302
    taken = add("Carla", "girl")
    assert taken.status_code == 409 and "one girl and one boy" in text(taken)
    assert add("Carla", "girl", role="substitute").status_code == 302
    no_seat = add("Davi", "")
    assert no_seat.status_code == 422 and "girl or boy" in text(no_seat)
    assert add("Eva", "", role="comforca").status_code == 302
    with app.app_context():
        rows = db.session.execute(
            sa.select(Delegate.name, Delegate.region_id, Delegate.seat).order_by(Delegate.id)
        ).all()
    assert [(r.name, r.seat) for r in rows] == [
        ("Ana", "girl"),
        ("Beto", "boy"),
        ("Carla", "girl"),
        ("Eva", None),
    ]
    assert {r.region_id for r in rows} == {region_id}  # the school's region


def _upload(app, staff, slug: str, content: str, event_id: str = ""):
    url = f"/staff/cycles/{slug}/delegates/import"
    data = {
        "csrf_token": csrf_token(staff, f"/staff/cycles/{slug}/delegates"),
        "event_id": event_id,
        "file": (io.BytesIO(content.encode()), "delegados.csv"),
    }
    return staff.post(url, data=data, content_type="multipart/form-data")


def test_csv_import_is_all_or_nothing_with_line_numbers(app, staff):
    w = _regional_cycle(app)
    bad = _upload(
        app,
        staff,
        w.slug,
        "name,region,seat,role\n"
        "Ana Souza,barreiro,,\n"
        "Bruno Lima,centro,,\n"
        ",venda-nova,,delegate\n"
        "Célia Reis,venda-nova,,prefeito\n",
    )
    assert bad.status_code == 422
    page = text(bad)
    assert "Nothing was imported" in page
    assert "line 3: unknown region" in page
    assert "line 4: Give the delegate" in page
    assert "line 5: the role must be" in page
    assert "line 2" not in page
    assert _delegates(app, w) == []
    header = _upload(app, staff, w.slug, "nome,regiao\nAna,barreiro\n")
    assert header.status_code == 422 and "line 1: the header must be" in text(header)
    good = _upload(
        app,
        staff,
        w.slug,
        "name,region,seat,role\n"
        "Ana Souza,barreiro,,\n"
        "Bruno Lima,Barreiro,,suplente\n"
        "Célia Reis,venda-nova,,comforca\n",
        event_id=str(w.event_id),
    )
    assert good.status_code == 302, text(good)
    rows = _delegates(app, w)
    assert [(d.name, d.role, d.event_id) for d in rows] == [
        ("Ana Souza", "delegate", w.event_id),
        ("Bruno Lima", "substitute", w.event_id),
        ("Célia Reis", "comforca", w.event_id),
    ]
    assert _actions(app)[-1] == "delegate.import"


def test_codes_need_a_delegate_roll(app, staff):
    w = _regional_cycle(app)
    post(
        app,
        staff,
        f"/staff/cycles/{w.slug}/delegates/new",
        {"name": "Ana", "role": "delegate", "region_id": str(w.regions[0]), "event_id": ""},
    )
    refused = post(app, staff, f"/staff/cycles/{w.slug}/delegates/codes")
    assert refused.status_code == 409 and "voting settings" in text(refused)


def test_an_auditor_cannot_see_the_roll(app):
    w = _regional_cycle(app)
    client = english_client(app)
    with app.app_context():
        sign_in(client, factories.user("auditor"))
    assert client.get(f"/staff/cycles/{w.slug}/delegates").status_code == 403
    assert english_client(app).get(f"/staff/cycles/{w.slug}/delegates").status_code == 302


# --- the Regional Forum, end to end ---------------------------------------------------------------


def _forum(app, staff) -> SimpleNamespace:
    """An OP Regional cycle under review with two works in each of two regions, its roll taken
    from its delegates, "own region only", frozen and voting now."""
    opens = now() - timedelta(hours=1)
    w = _regional_cycle(
        app,
        state="under_review",
        counting_rule="plurality-per-region",
        phases=[("voting", opens, opens + timedelta(days=2))],
    )
    with app.app_context():
        works = [
            [
                factories.proposal(
                    db.session.get(Cycle, w.cycle_id),
                    status="accepted",
                    region_id=region_id,
                    estimated_cost_cents=1_000_000_00,
                ).id
                for _ in range(2)
            ]
            for region_id in w.regions
        ]
    w.works = works
    saved = post(
        app,
        staff,
        f"/staff/cycles/{w.slug}/voting-settings",
        voting_settings_form(
            ballot_rule="one-per-region",
            min_choices="1",
            max_choices="",
            counting_rule="plurality-per-region",
            min_voter_age="",
            age_reference_date="",
            registry_scope="delegates",
            own_region_only="y",
            shuffle_ballot="",
        ),
    )
    assert saved.status_code == 302, text(saved)
    with app.app_context():
        cycle = db.session.get(Cycle, w.cycle_id)
        assert cycle.registry_scope == delegate_scope(cycle.id)
        user = factories.user("admin")
        advance(cycle, CycleState.BALLOT_FROZEN, user)
        advance(db.session.get(Cycle, w.cycle_id), CycleState.VOTING, user)
    return w


def _issue_all(app, staff, w) -> dict[str, str]:
    answer = post(app, staff, f"/staff/cycles/{w.slug}/delegates/codes")
    assert answer.status_code == 200, text(answer)
    assert answer.headers["Cache-Control"] == "no-store"
    page = text(answer)
    assert page_problems(page) == []
    names = re.findall(r"<dt>Name</dt><dd>([^<]+)</dd>", page)
    return dict(zip(names, SLIP_CODE.findall(page), strict=True))


def _web_identify(client, slug: str, code: str):
    url = f"/ciclos/{slug}/votar"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "code": code})


def _web_vote(app, slug: str, code: str, region_id: int, work: int) -> str:
    browser = english_client(app)
    identified = _web_identify(browser, slug, code)
    assert identified.status_code == 303, text(identified)
    world = SimpleNamespace(slug=slug)
    chosen = post_ballot(browser, world, {region_field(region_id): str(work)})
    assert chosen.status_code == 303, text(chosen)
    done = confirm(browser, world)
    assert done.status_code in (200, 303), text(done)
    return text(browser.get(done.headers["Location"])) if done.status_code == 303 else text(done)


def _api_cast(client, slug: str, code: str, choices):
    return vs.post_ballot(
        client, slug, {"credentials": {"delegate_code": code}, "choices": choices}
    )


def _participations(app, w) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).where(Participation.cycle_id == w.cycle_id)
        )


def test_regional_forum_votes_by_delegate_code(app, staff, settings, signing_key):
    settings(VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="3 per day")
    w = _forum(app, staff)
    barreiro, venda_nova = w.regions
    imported = _upload(
        app,
        staff,
        w.slug,
        "name,region,role\n"
        "Ana,barreiro,\nBruno,barreiro,\nCélia,barreiro,\n"
        "Dora,venda-nova,\nEdu,venda-nova,\nFabi,venda-nova,suplente\n"
        "Gil,venda-nova,comforca\n",
    )
    assert imported.status_code == 302, text(imported)
    # The Comforça is public on the cycle page, by name and region; delegates are not listed.
    public = text(english_client(app).get(f"/ciclos/{w.slug}"))
    assert "<li>Gil</li>" in public and "<li>Ana</li>" not in public

    # Codes for the five delegates (not the substitute, not the Comforça member).
    slips = _issue_all(app, staff, w)
    assert sorted(slips) == ["Ana", "Bruno", "Célia", "Dora", "Edu"]
    assert len(set(slips.values())) == 5
    assert _issue_all(app, staff, w) == {}  # nobody left without a code
    with app.app_context():
        entries = db.session.scalars(
            sa.select(RegistryEntry).where(RegistryEntry.scope == delegate_scope(w.cycle_id))
        ).all()
        keys = set(
            db.session.scalars(sa.select(Delegate.code_key).where(Delegate.code_key.is_not(None)))
        )
        assert len(entries) == 5 and {e.voter_key for e in entries} == keys
    audit_text = " ".join(str(a) for a in _audit_payloads(app))
    assert not any(code.replace("-", "") in audit_text for code in slips.values())

    # The identification page asks for the code alone.
    voter = english_client(app)
    page = text(voter.get(f"/ciclos/{w.slug}/votar"))
    assert 'name="code"' in page and 'name="birth_date"' not in page and "titulo" not in page
    assert page_problems(page) == []
    # A mistyped code: the field's message, 422, not a failed identification.
    typo = slips["Ana"][:-1] + ("2" if slips["Ana"][-1] != "2" else "3")
    mistyped = _web_identify(voter, w.slug, typo)
    assert mistyped.status_code == 422 and "mistyped" in text(mistyped)

    # Three delegates vote on the web (lower case and without the hyphen work too), their
    # own region's works only.
    receipt = _web_vote(app, w.slug, slips["Ana"], barreiro, w.works[0][0])
    assert "receipt" in receipt.lower()
    _web_vote(app, w.slug, slips["Bruno"].lower(), barreiro, w.works[0][0])
    _web_vote(app, w.slug, slips["Dora"].replace("-", ""), venda_nova, w.works[1][1])
    # One through the API; another region's work is refused first.
    api = app.test_client()
    away = _api_cast(api, w.slug, slips["Célia"], [w.works[1][0]])
    assert away.status_code == 422 and away.get_json()["error"]["problems"][0]["code"] == (
        "not_your_region"
    )
    cast = _api_cast(api, w.slug, slips["Célia"], [w.works[0][1]])
    assert cast.status_code == 201, cast.get_json()
    assert _participations(app, w) == 4

    # A used code is refused, on the API (409) and on the web.
    again = _api_cast(api, w.slug, slips["Ana"], [w.works[0][0]])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_voted"
    web_again = _web_identify(english_client(app), w.slug, slips["Bruno"])
    assert "already" in text(web_again).lower()

    # Malformed (422), of the wrong kind (400), and wrong codes (403, then 429 past the limit).
    assert _api_cast(api, w.slug, typo, [w.works[0][0]]).status_code == 422
    titulo = vs.post_ballot(api, w.slug, vs.body(vs.make_titulo(5), [w.works[0][0]]))
    assert titulo.status_code == 400
    wrong = codes.pretty(codes.new_code())
    answers = [_api_cast(api, w.slug, wrong, [w.works[0][0]]).status_code for _ in range(4)]
    assert answers == [403, 403, 403, 429]
    unknown = _api_cast(app.test_client(), w.slug, codes.new_code(), [w.works[0][0]])
    assert unknown.status_code == 403
    assert "código de delegado" in unknown.get_json()["error"]["message"]

    # A lost slip: Edu's new code replaces the old one, which no longer works.
    edu = next(d for d in _delegates(app, w) if d.name == "Edu")
    reissued = post(app, staff, f"/staff/cycles/{w.slug}/delegates/{edu.id}/code")
    assert reissued.status_code == 200 and reissued.headers["Cache-Control"] == "no-store"
    [new_code] = SLIP_CODE.findall(text(reissued))
    assert new_code != slips["Edu"]
    assert _api_cast(api, w.slug, slips["Edu"], [w.works[1][0]]).status_code == 403
    assert _api_cast(api, w.slug, new_code, [w.works[1][0]]).status_code == 201
    # ... but a code that has voted is never replaced, and its delegate stays on the roll.
    ana = next(d for d in _delegates(app, w) if d.name == "Ana")
    refused = post(app, staff, f"/staff/cycles/{w.slug}/delegates/{ana.id}/code")
    assert refused.status_code == 409 and "already voted" in text(refused)
    kept = post(app, staff, f"/staff/cycles/{w.slug}/delegates/{ana.id}/delete")
    assert kept.status_code == 409
    roll = text(staff.get(f"/staff/cycles/{w.slug}/delegates"))
    assert roll.count(">Voted<") == 5
    assert "delegate.code_reissued" in _actions(app)

    # Close and tally: five ballots, the most voted work of each region selected.
    with app.app_context():
        user = factories.user("admin", email="tally@example.org")
        advance(db.session.get(Cycle, w.cycle_id), CycleState.CLOSED, user)
        advance(db.session.get(Cycle, w.cycle_id), CycleState.TALLIED, user)
        tally = db.session.scalar(sa.select(Tally).where(Tally.cycle_id == w.cycle_id))
        assert tally is not None
        selected = set(
            db.session.scalars(
                sa.select(Proposal.id).where(
                    Proposal.cycle_id == w.cycle_id, Proposal.status == "selected"
                )
            )
        )
    # Barreiro 2 to 1; Venda Nova 1 to 1, the tie going to the lower id.
    assert selected == {w.works[0][0], w.works[1][0]}
    assert _participations(app, w) == 5
    # Codes are of no use once the vote is over.
    over = post(app, staff, f"/staff/cycles/{w.slug}/delegates/codes")
    assert over.status_code == 409


def _audit_payloads(app) -> list:
    with app.app_context():
        return [
            (row.before, row.after)
            for row in db.session.execute(sa.select(AuditEntry.before, AuditEntry.after))
        ]
