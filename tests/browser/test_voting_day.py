"""A voting day at a staffed public voting point, in a real browser on gunicorn (issue 12).

A coordinator registers the point, creates two poll workers and enrols a kiosk; a poll worker
opens the point; three voters vote on the kiosk one after another, and nothing of the one before
is visible or reachable; twenty voters vote on paper; the point closes; the batch of twenty
sheets is entered twice, with two deliberate differences, resolved against the sheets and
sealed; a paper voter is refused online and an online voter on paper; the tally package counts
both kinds of ballot and the verifier checks the paper batch, and fails once its count is
tampered with.

It runs three times: on a desktop and on a phone-sized screen, where axe-core checks each new
page on the way, and on a phone without JavaScript (every page of the day must work without
scripts; axe itself needs them).
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from opdigital.extensions import db
from opdigital.ledger.verify import main as verify_main
from opdigital.paper.models import PaperBatch
from opdigital.voting.models import Participation, VotingPoint
from tests.support import factories
from tests.support import voting as vs
from tests.support.browser import sign_in, violations
from tests.support.live import request

pytestmark = pytest.mark.browser

POINT = "CRAS Barreiro de Cima"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
SCREENS = {
    "desktop": {"viewport": DESKTOP},
    "phone": {"viewport": PHONE},
    "phone-no-js": {"viewport": PHONE, "java_script_enabled": False},
}


def _submit(page, action_ends_with: str) -> None:
    """Press the submit button of the form whose action ends so (the pages are Portuguese)."""
    page.locator(f'main form[action$="{action_ends_with}"] button[type=submit]').first.click()
    page.wait_for_load_state()


def _create_point(page) -> int:
    page.goto("/staff/voting-points/new")
    page.fill("#name", POINT)
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_load_state()
    return _point_id()


def _point_id() -> int:
    point_id = db.session.scalar(sa.select(VotingPoint.id).where(VotingPoint.name == POINT))
    db.session.remove()
    assert point_id is not None
    return point_id


def _create_poll_worker(page, point_id: int, name: str, email: str, cycle_title: str) -> str:
    """Create a poll worker on the point's page; the password the page shows once."""
    page.goto(f"/staff/voting-points/{point_id}/poll-workers")
    page.fill("#name", name)
    page.fill("#email", email)
    page.select_option("#cycle", label=cycle_title)
    _submit(page, "/poll-workers")
    password = page.locator("td.password code").inner_text().strip()
    assert len(password) >= 16
    return password


def _vote_on_kiosk(kiosk, election, number: str, choices: list[int]) -> str:
    """One voter's whole visit to the kiosk; their receipt code."""
    kiosk.goto("/quiosque")
    kiosk.locator(f'main a[href="/ciclos/{election.slug}/votar"]').click()
    kiosk.wait_for_url(f"**/ciclos/{election.slug}/votar")
    kiosk.fill("#titulo", number)
    kiosk.fill("#birth_date", vs.BIRTH.isoformat())
    kiosk.locator("form.vote-form button[type=submit]").click()
    kiosk.wait_for_url(f"**/ciclos/{election.slug}/votar/cedula")
    for choice in choices:
        kiosk.check(f"#p-{choice}")
    kiosk.locator("button[name=action][value=review]").click()
    kiosk.wait_for_url(f"**/ciclos/{election.slug}/votar/revisao")
    kiosk.locator(f'form[action="/ciclos/{election.slug}/votar/revisao"] button').click()
    kiosk.wait_for_url(f"**/ciclos/{election.slug}/votar/comprovante")
    return kiosk.locator(".receipt-code").inner_text().split()[-1]


def _nothing_left_of(kiosk, election, code: str, number: str) -> None:
    """After "next voter": the back button, the flow's pages and the page itself show nothing
    of the voter before, and the session holds no voter."""
    kiosk.locator("form.kiosk-finish button").click()
    kiosk.wait_for_url("**/quiosque")
    kiosk.go_back()
    kiosk.wait_for_load_state()
    assert kiosk.url.endswith("/quiosque")
    for path in ("votar/cedula", "votar/revisao", "votar/comprovante"):
        kiosk.goto(f"/ciclos/{election.slug}/{path}")
        kiosk.wait_for_load_state()
        content = kiosk.content()
        assert code not in content and number not in content, path
        assert "/votar/" not in kiosk.url or path == "votar/comprovante", kiosk.url
    kiosk.goto(f"/ciclos/{election.slug}/votar")
    assert kiosk.input_value("#titulo") == ""


def _record_on_paper(page, participation_url: str, number: str) -> int:
    page.goto(participation_url)
    page.fill("#titulo", number)
    page.fill("#birth_date", vs.BIRTH.isoformat())
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator('main form[action$="/participation"] button[type=submit]').click()
    page.wait_for_load_state()
    return answer.value.status


def _sheets(ids: list[int]) -> list[tuple[int, list[int] | str]]:
    a, b, c, d, e = ids[:5]
    valid = [[a, b], [a, b, c], [b, d], [e, a], [c, d], [a, c, d], [b, c], [e, b]]
    sheets: list[tuple[int, list[int] | str]] = [
        (serial, valid[serial % len(valid)]) for serial in range(1, 19)
    ]
    return [*sheets, (19, "spoiled"), (20, [])]


def _enter_batch(page, entry_url: str, sheets) -> None:
    page.goto(entry_url)
    for row, (serial, marks) in enumerate(sheets, start=1):
        page.fill(f"#serial-{row}", str(serial))
        if marks == "spoiled":
            page.check(f"#spoiled-{row}")
        else:
            for work in marks:
                page.check(f"#s{row}-{work}")
    _submit(page, "/entry")


@pytest.mark.parametrize("screen", SCREENS)
def test_a_voting_day_at_a_staffed_point(
    app, live_server, new_page, election, signing_key_path, tmp_path, capsys, screen
):
    problems: list[str] = []

    def page():
        return new_page(**SCREENS[screen])

    def audit(on, name: str) -> None:
        if SCREENS[screen].get("java_script_enabled", True):
            problems.extend(violations(on, f"{screen} {name}"))

    with app.app_context():
        paper_voters = [vs.make_titulo(4300 + n) for n in range(20)]
        online_first = vs.make_titulo(4400)
        for number in [*paper_voters, online_first]:
            vs.register(number)
        coordinator = factories.user("coordinator").email
        db.session.remove()

    # The coordinator registers the point and its two poll workers.
    staff = page()
    sign_in(staff, coordinator)
    with app.app_context():
        point_id = _create_point(staff)
    workers = [
        ("Ana Mesária", "ana.mesaria@pbh.example"),
        ("Bruno Mesário", "bruno.mesario@pbh.example"),
    ]
    passwords = []
    for name, email in workers:
        passwords.append(_create_poll_worker(staff, point_id, name, email, election.title))
        audit(staff, "poll worker created")
    staff.goto(f"/staff/voting-points/{point_id}/poll-workers")
    assert passwords[0] not in staff.content()  # shown once, on the page that made it
    audit(staff, "poll workers")
    staff.goto("/staff/poll-workers/import")
    audit(staff, "poll workers from a CSV file")

    # The kiosk is enrolled on the device itself; the coordinator is signed out there.
    kiosk = page()
    sign_in(kiosk, coordinator)
    kiosk.goto(f"/staff/voting-points/{point_id}/kiosks")
    audit(kiosk, "kiosks of a point")
    kiosk.fill("#label", "Guichê 1")
    kiosk.locator("main form button[type=submit]").first.click()
    kiosk.wait_for_url("**/quiosque")
    assert not kiosk.locator(f'main a[href="/ciclos/{election.slug}/votar"]').count()  # closed
    audit(kiosk, "kiosk of a closed point")
    kiosk.goto("/staff/")
    assert "/login" in kiosk.url

    # A poll worker opens the point.
    first = page()
    sign_in(first, workers[0][1], passwords[0])
    assert first.url.endswith("/mesario/")
    audit(first, "poll worker's page")
    first.goto("/mesario/identificar")  # the point is not open yet
    assert first.locator(".error-summary").count() == 1
    audit(first, "assisted identification refused")
    first.goto("/mesario/")
    _submit(first, "/mesario/abrir")
    assert first.locator('form[action="/mesario/fechar"] button').is_visible()
    first.goto("/mesario/identificar")
    audit(first, "assisted identification")

    # Three voters, one after another, on the kiosk.
    a, b, c = election.ids[:3]
    codes = []
    for number, choices in zip(election.numbers, [[a, b], [a, c], [b, c]], strict=True):
        code = _vote_on_kiosk(kiosk, election, number, choices)
        if not codes:
            audit(kiosk, "kiosk receipt")
        assert all(earlier not in kiosk.content() for earlier in codes)
        _nothing_left_of(kiosk, election, code, number)
        codes.append(code)
    assert len(set(codes)) == 3
    with app.app_context():
        at_point = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Participation)
            .where(Participation.voting_point_id == point_id)
        )
        db.session.remove()
    assert at_point == 3

    # An online voter, then twenty voters on the paper list.
    ballots = f"{live_server}/api/v1/cycles/{election.slug}/ballots"
    status, _, answer = request("POST", ballots, vs.body(online_first, [a, b]))
    assert status == 201, answer
    first.goto(f"/staff/paper/{election.slug}/points/{point_id}")
    audit(first, "paper ballots of a point")
    first.goto(f"/staff/paper/{election.slug}/points/{point_id}/sheets")
    audit(first, "printing sheets")
    first.fill("#count", "25")
    _submit(first, "/sheets")
    assert first.locator("article.paper-sheet").count() == 25
    audit(first, "printed sheets")
    participation = f"/staff/paper/{election.slug}/points/{point_id}/participation"
    assert _record_on_paper(first, participation, online_first) == 409
    audit(first, "paper list refusal")
    for number in paper_voters:
        assert _record_on_paper(first, participation, number) in (200, 303)
    audit(first, "paper list")
    # ...and the first of them cannot vote online any more.
    status, _, answer = request("POST", ballots, vs.body(paper_voters[0], [a, b]))
    assert status == 409, answer

    # The point closes; the batch of 20 sheets is entered twice, by the two poll workers.
    first.goto("/mesario/")
    _submit(first, "/mesario/fechar")
    first.goto(f"/staff/paper/{election.slug}/points/{point_id}/batches")
    first.fill("#sheet_count", "20")
    _submit(first, "/batches")
    audit(first, "a new batch")
    with app.app_context():
        batch_id = db.session.scalar(sa.select(PaperBatch.id).where(PaperBatch.number == 1))
        db.session.remove()
    batch_url = f"/staff/paper/{election.slug}/batches/{batch_id}"
    sheets = _sheets(election.ids)
    first.goto(f"{batch_url}/entry")
    audit(first, "entering a batch")
    _enter_batch(first, f"{batch_url}/entry", sheets)
    second = page()
    sign_in(second, workers[1][1], passwords[1])
    d, e = election.ids[3:5]
    mistyped = list(sheets)
    mistyped[4] = (5, [a, e])  # other works than the sheet's
    mistyped[6] = (7, "spoiled")  # a valid sheet typed as spoiled
    _enter_batch(second, f"{batch_url}/entry", mistyped)
    second.goto(batch_url)
    assert second.locator(f'a[href="{batch_url}/resolve"]').count() == 1  # differences found
    audit(second, "a batch with differences")

    # The differences are resolved against the sheets: 5 as the first entry read it, 7 typed.
    first.goto(f"{batch_url}/resolve")
    audit(first, "resolving differences")
    assert first.locator('input[type=radio][name^="resolve-"]').count() == 6
    first.check("#r5-first")
    first.check("#r7-typed")
    for work in sheets[6][1]:
        first.check(f"#r7-{work}")
    _submit(first, "/resolve")
    first.goto(batch_url)
    audit(first, "a batch ready to seal")
    _submit(first, "/seal")
    with app.app_context():
        assert db.session.get(PaperBatch, batch_id).status == "sealed"
        db.session.remove()
    first.goto(f"/staff/paper/{election.slug}/points/{point_id}/batches")
    audit(first, "batches of a point")
    staff.goto("/staff/paper/")
    audit(staff, "paper ballots: choosing a point")
    staff.goto(f"/staff/cycles/{election.slug}/turnout")
    audit(staff, "turnout with assisted and paper votes")
    assert not problems, "\n".join(problems)

    # Close, tally: the package counts 4 online and 20 paper ballots and verifies.
    package = tmp_path / "tally.zip"
    saved = app.config["SIGNING_KEY_PATH"]
    app.config["SIGNING_KEY_PATH"] = str(signing_key_path)
    try:
        with app.app_context():
            runner = app.test_cli_runner()
            for args in (
                ["cycle", "close", election.slug],
                ["tally", election.slug, "--out", str(package)],
            ):
                result = runner.invoke(args=args)
                assert result.exit_code == 0, result.output
            db.session.remove()
    finally:
        app.config["SIGNING_KEY_PATH"] = saved
    with zipfile.ZipFile(package) as archive:
        paper = json.loads(archive.read("paper.json"))
        board = [json.loads(line) for line in archive.read("board.jsonl").splitlines()]
    assert paper["ballots"] == {"online": 4, "paper": 20}
    assert paper["batches"] == [
        {"id": batch_id, "voting_point_id": point_id, "number": 1, "sheets": 20}
    ]
    assert [p["paper_participation"] for p in paper["voting_points"]] == [20]
    assert sum(1 for entry in board if entry.get("paper_batch") == batch_id) == 20
    assert verify_main([str(package)]) == 0
    assert "FAILED" not in capsys.readouterr().out

    # A batch count tampered with (the sums fixed up, so only the signature and the paper
    # check can tell): the verifier fails and names the batch.
    tampered = tmp_path / "tampered.zip"
    _rewrite_member(package, tampered, "paper.json", _with_sheets(paper, 19))
    assert verify_main([str(tampered)]) == 1
    report = capsys.readouterr().out
    assert "paper.json declares 19 sheets, but the board has 20 ballots of this batch" in report


def _with_sheets(paper: dict, sheets: int) -> bytes:
    changed = json.loads(json.dumps(paper))
    changed["batches"][0]["sheets"] = sheets
    return json.dumps(changed, sort_keys=True, separators=(",", ":")).encode()


def _rewrite_member(source, target, name: str, content: bytes) -> None:
    """Copy the zip with one member replaced and SHA256SUMS updated to match."""
    import hashlib

    with zipfile.ZipFile(source) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = content
    sums = members["SHA256SUMS"].decode().splitlines()
    fixed = []
    for line in sums:
        digest, member = line.split(maxsplit=1)
        member = member.lstrip("*")
        if member == name:
            digest = hashlib.sha256(content).hexdigest()
        fixed.append(f"{digest}  {member}")
    members["SHA256SUMS"] = ("\n".join(fixed) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    target.write_bytes(buffer.getvalue())
