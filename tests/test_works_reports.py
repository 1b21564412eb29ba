"""The Comforça's reports: members (monitors, bound to a region) report on the works of their
region, coordinators approve or reject, approved reports appear on the work's public page with
the author's role and region (the name only if chosen); monitors see nothing else of the staff
side; admins create them with a region (and from the command line)."""

from __future__ import annotations

import io
import re
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from PIL import Image
from werkzeug.datastructures import MultiDict

from opdigital.accounts.models import User
from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from opdigital.works.models import MonitoringReport, WorkMilestone, WorkPhoto
from tests.support import factories
from tests.support.client import english_client, login_as, post_form
from tests.support.coordination import text, token
from tests.support.form_fuzz import audit_count, check_answer, table_digests
from tests.support.pages import page_problems
from tests.support.staff_routes import refused_everywhere_but
from tests.test_fuzz_forms import EXAMPLES, form_data

HOME = "/comforca"
QUEUE = "/staff/reports"
BODY = "Visitei a obra na segunda-feira: o alambrado está pronto, falta a iluminação da quadra."
NAME = "Joana Lima"


def report_url(code: str) -> str:
    return f"/comforca/obras/{code}/relatorio"


@pytest.fixture
def w(app, english_by_default):
    """Two regions; works chosen in 2024 and 2025 (one through a school of Barreiro), one in
    Venda Nova, a proposal of Barreiro that was not chosen; a monitor of Barreiro, a
    coordinator and an admin, each with a browser reading English."""
    with app.app_context():
        barreiro = factories.region(name="Barreiro", slug="barreiro")
        venda_nova = factories.region(name="Venda Nova", slug="venda-nova")
        school = factories.school(barreiro)
        older = factories.cycle(
            slug="op-2024", title="OP Digital 2024", edition=2024, state="monitoring"
        )
        newer = factories.cycle(
            slug="op-2025", title="OP Digital 2025", edition=2025, state="tallied"
        )
        work = factories.proposal(
            newer,
            code="OPD2025-0001",
            status="selected",
            execution_status="in_works",
            region_id=barreiro.id,
        )
        school_work = factories.proposal(
            older, code="OPD2024-0007", status="selected", school_id=school.id
        )
        elsewhere = factories.proposal(
            newer, code="OPD2025-0002", status="selected", region_id=venda_nova.id
        )
        not_chosen = factories.proposal(
            newer, code="OPD2025-0003", status="not_selected", region_id=barreiro.id
        )
        db.session.add_all(
            [
                WorkMilestone(
                    proposal=work,
                    title="Alambrado",
                    planned_on=date(2025, 3, 1),
                    done_on=date(2025, 3, 2),
                    weight=1,
                ),
                WorkMilestone(
                    proposal=work, title="Iluminação", planned_on=date(2099, 1, 1), weight=1
                ),
            ]
        )
        db.session.commit()
        monitor = factories.user("monitor", name=NAME, region_id=barreiro.id)
        coordinator = factories.user("coordinator")
        admin = factories.user("admin")
        world = SimpleNamespace(
            barreiro_id=barreiro.id,
            venda_nova_id=venda_nova.id,
            work=work.code,
            school_work=school_work.code,
            elsewhere=elsewhere.code,
            not_chosen=not_chosen.code,
            monitor=SimpleNamespace(id=monitor.id, email=monitor.email),
            coordinator=SimpleNamespace(id=coordinator.id, email=coordinator.email),
            admin=SimpleNamespace(id=admin.id, email=admin.email),
        )
    for role in ("monitor", "coordinator", "admin"):
        browser = english_client(app)
        login_as(browser, getattr(world, role))
        setattr(world, f"{role}_browser", browser)
    return world


def send_report(app, browser, code: str, body: str = BODY, **extra):
    return post_form(browser, report_url(code), {"body": body} | extra)


def reports_in_db(app) -> list[SimpleNamespace]:
    with app.app_context():
        rows = db.session.scalars(sa.select(MonitoringReport).order_by(MonitoringReport.id))
        return [
            SimpleNamespace(
                id=r.id,
                status=r.status,
                body=r.body,
                show_author_name=r.show_author_name,
                note=r.moderation_note,
                moderated_by_id=r.moderated_by_id,
                photos=len(r.photos),
            )
            for r in rows
        ]


def audit_entries(app, prefix: str) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.id)
        )
        return [entry.as_dict() for entry in rows]


def moderate(app, browser, report_id: int, action: str, note: str | None = None):
    data = {} if note is None else {f"reject-{report_id}-note": note}
    return post_form(browser, f"{QUEUE}/{report_id}/{action}", data, form_url=QUEUE)


def png(size=(64, 48), colour=(30, 120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


# --- the member's page ---------------------------------------------------------------------


def test_a_monitor_signs_in_to_the_works_of_their_region(app, w):
    browser = english_client(app)
    response = post_form(
        browser, "/login", {"email": w.monitor.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == HOME
    # A link to another staff screen is not followed: their only staff pages are these.
    browser = english_client(app)
    response = post_form(
        browser,
        "/login?next=/staff/",
        {"email": w.monitor.email, "password": factories.PASSWORD},
        form_url="/login",
    )
    assert response.headers["Location"] == HOME
    page = browser.get(HOME)
    assert page.status_code == 200
    html, words = page.get_data(as_text=True), text(page)
    assert "Works of Barreiro" in words
    assert w.work in words and w.school_work in words  # every cycle, schools' works too
    assert w.elsewhere not in words and w.not_chosen not in words
    assert "In works" in words and "50%" in words and "1 of 2 milestones" in words
    assert f'href="{report_url(w.work)}"' in html
    assert "My region&#39;s works" in html or "My region's works" in html
    assert "You have not sent any report yet." in words
    assert page_problems(html) == []


def test_other_roles_have_no_comforca_pages(app, w):
    for role in ("admin", "coordinator", "auditor", "privacy_officer"):
        with app.app_context():
            person = SimpleNamespace(id=factories.user(role).id)
        browser = english_client(app)
        login_as(browser, person)
        assert browser.get(HOME).status_code == 403, role
        assert browser.get(report_url(w.work)).status_code == 403, role
    anonymous = english_client(app).get(HOME)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


# --- the whole flow ------------------------------------------------------------------------


def test_a_report_is_moderated_then_public_without_the_name(app, w):
    form = w.monitor_browser.get(report_url(w.work))
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert page_problems(html) == []
    checkbox = re.search(r'<input[^>]*name="show_author_name"[^>]*>', html).group(0)
    assert 'type="checkbox"' in checkbox and "checked" not in checkbox  # unticked by default

    response = send_report(app, w.monitor_browser, w.work)
    assert response.status_code == 303 and response.headers["Location"] == HOME
    (report,) = reports_in_db(app)
    assert (report.status, report.body, report.show_author_name) == ("pending", BODY, False)
    (entry,) = audit_entries(app, "report.")
    assert entry["action"] == "report.submit" and entry["actor_email"] == w.monitor.email
    assert entry["object_type"] == "monitoringreport" and entry["object_id"] == str(report.id)
    assert entry["after"] == {"work": w.work, "show_author_name": False, "photos": 0}
    assert "Waiting for moderation" in text(w.monitor_browser.get(HOME))

    public = english_client(app)
    assert BODY not in text(public.get(f"/propostas/{w.work}"))  # not before approval

    queue = w.coordinator_browser.get(QUEUE)
    assert queue.status_code == 200 and page_problems(queue.get_data(as_text=True)) == []
    words = text(queue)
    assert BODY in words and NAME in words  # staff know who wrote it
    assert "Comforça member — Barreiro" in words

    response = moderate(app, w.coordinator_browser, report.id, "approve")
    assert response.status_code == 303 and response.headers["Location"] == QUEUE
    (report,) = reports_in_db(app)
    assert report.status == "approved" and report.moderated_by_id == w.coordinator.id
    assert [e["action"] for e in audit_entries(app, "report.")] == [
        "report.submit",
        "report.approve",
    ]
    assert "No report is waiting." in text(w.coordinator_browser.get(QUEUE))

    page = public.get(f"/propostas/{w.work}")
    html, words = page.get_data(as_text=True), text(page)
    assert "Monitoring reports" in words and BODY in words
    assert "Comforça member — Barreiro" in words
    assert NAME not in words and w.monitor.email not in words
    assert '<time datetime="' in html.split("Monitoring reports")[1]
    assert page_problems(html) == []
    assert "Published" in text(w.monitor_browser.get(HOME))


def test_the_name_is_shown_when_the_author_chose_so(app, w):
    send_report(app, w.monitor_browser, w.work, show_author_name="y")
    (report,) = reports_in_db(app)
    assert report.show_author_name is True
    moderate(app, w.admin_browser, report.id, "approve")
    words = text(english_client(app).get(f"/propostas/{w.work}"))
    assert f"{NAME}, Comforça member — Barreiro" in words


def test_a_rejected_report_needs_a_note_and_stays_private(app, w):
    send_report(app, w.monitor_browser, w.work)
    (report,) = reports_in_db(app)
    for note in ("", "   \r\n  "):
        refused = moderate(app, w.coordinator_browser, report.id, "reject", note)
        assert refused.status_code == 422
        assert "Say why the report is not published" in text(refused)
        assert reports_in_db(app)[0].status == "pending"
    note = "O texto cita o nome de um morador; reescreva sem nomes, por favor."
    response = moderate(app, w.coordinator_browser, report.id, "reject", note)
    assert response.status_code == 303
    (report,) = reports_in_db(app)
    assert (report.status, report.note) == ("rejected", note)
    (entry,) = audit_entries(app, "report.reject")
    assert entry["after"] == {"status": "rejected", "note": note}

    mine = text(w.monitor_browser.get(HOME))
    assert "Not published" in mine and note in mine  # the author reads why
    public = text(english_client(app).get(f"/propostas/{w.work}"))
    assert BODY not in public and note not in public and "Monitoring reports" not in public
    # Decided once: approving it afterwards is refused, and it stays private.
    again = moderate(app, w.coordinator_browser, report.id, "approve")
    assert again.status_code == 409
    assert "already approved or rejected" in text(again)
    assert reports_in_db(app)[0].status == "rejected"
    assert moderate(app, w.coordinator_browser, 999999, "approve").status_code == 404


# --- one region only -----------------------------------------------------------------------


def test_a_monitor_reports_only_on_the_works_of_their_region(app, w):
    assert w.monitor_browser.get(report_url(w.school_work)).status_code == 200
    other = w.monitor_browser.get(report_url(w.elsewhere))
    assert other.status_code == 403
    assert "works of your own region" in text(other)
    assert send_report(app, w.monitor_browser, w.elsewhere).status_code == 403
    for code in (w.not_chosen, "OPD1999-9999", "x" * 300, "%0A", "a'b\"<c>"):
        assert w.monitor_browser.get(report_url(code)).status_code == 404, code
        assert send_report(app, w.monitor_browser, code).status_code == 404, code
    assert reports_in_db(app) == []


# Endpoints a monitor may use: their own pages, and signing in and out.
MONITOR_PAGES = ("works.comforca_", "accounts.login", "accounts.logout")


def test_a_monitor_is_refused_every_other_staff_screen(app, w):
    refused, endpoints = refused_everywhere_but(app, w.monitor_browser, MONITOR_PAGES)
    assert refused == []
    assert {
        "coordination.dashboard",
        "coordination.execution",
        "accounts.list_users",
        "audit.log",
        "polling.dashboard",
        "subject_requests.queue",
        "works.report_queue",
        "works.approve_report",
        "works.reject_report",
    } <= endpoints
    # Still signed in throughout: refusals, not sign-outs.
    assert w.monitor_browser.get(HOME).status_code == 200


# --- accounts ------------------------------------------------------------------------------


def new_monitor(**overrides) -> dict:
    return {
        "email": "membro.comforca@example.org",
        "name": "Membro da Comforça",
        "role": "monitor",
        "region": "barreiro",
        "password": "another long passphrase",
        "confirm": "another long passphrase",
    } | overrides


def load(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def test_the_admin_creates_a_monitor_with_a_region(app, w):
    form = w.admin_browser.get("/staff/accounts/new")
    html = form.get_data(as_text=True)
    assert '<option value="barreiro">Barreiro</option>' in html and page_problems(html) == []
    response = post_form(w.admin_browser, "/staff/accounts/new", new_monitor())
    assert response.status_code == 302
    user = load(app, "membro.comforca@example.org")
    assert (user.role, user.region_id) == ("monitor", w.barreiro_id)
    (entry,) = audit_entries(app, "user.create")
    assert entry["after"] == {
        "email": "membro.comforca@example.org",
        "role": "monitor",
        "region": "barreiro",
    }
    listing = text(w.admin_browser.get("/staff/accounts"))
    assert "Comforça member · Barreiro" in listing


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"region": ""}, "Choose the region this Comforça member follows."),
        ({"region": "atlantida"}, "Not a valid choice"),
    ],
)
def test_a_monitor_without_a_region_is_refused(app, w, overrides, message):
    response = post_form(w.admin_browser, "/staff/accounts/new", new_monitor(**overrides))
    assert response.status_code == 422
    assert message in text(response)
    assert load(app, "membro.comforca@example.org") is None


def test_other_roles_get_no_region(app, w):
    data = new_monitor(role="coordinator")  # a region chosen by mistake is dropped
    assert post_form(w.admin_browser, "/staff/accounts/new", data).status_code == 302
    user = load(app, "membro.comforca@example.org")
    assert (user.role, user.region_id) == ("coordinator", None)


def test_a_new_region_or_deactivation_ends_the_monitors_sessions(app, w):
    edit = f"/staff/accounts/{w.monitor.id}"
    page = w.admin_browser.get(edit).get_data(as_text=True)
    assert '<option selected value="barreiro">' in page or 'value="barreiro" selected' in page
    data = {"name": NAME, "role": "monitor", "region": "venda-nova", "active": "y"}
    assert post_form(w.admin_browser, edit, data).status_code == 302
    assert load(app, w.monitor.email).region_id == w.venda_nova_id
    signed_out = w.monitor_browser.get(HOME)
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith("/login")
    (entry,) = audit_entries(app, "user.update")
    assert entry["before"]["region"] == "barreiro" and entry["after"]["region"] == "venda-nova"

    # Signed in again: the new region's works, and the old region's refused.
    browser = english_client(app)
    login_as(browser, w.monitor)
    words = text(browser.get(HOME))
    assert w.elsewhere in words and w.work not in words
    assert browser.get(report_url(w.work)).status_code == 403

    data = {"name": NAME, "role": "monitor", "region": "venda-nova"}  # active unticked
    assert post_form(w.admin_browser, edit, data).status_code == 302
    assert browser.get(HOME).status_code == 302
    refused = post_form(
        english_client(app), "/login", {"email": w.monitor.email, "password": factories.PASSWORD}
    )
    assert refused.status_code == 401


def test_role_changes_keep_the_region_rule(app, w):
    edit = f"/staff/accounts/{w.monitor.id}"
    data = {"name": NAME, "role": "auditor", "region": "barreiro", "active": "y"}
    assert post_form(w.admin_browser, edit, data).status_code == 302
    assert load(app, w.monitor.email).region_id is None  # no longer a Comforça member
    other = f"/staff/accounts/{w.coordinator.id}"
    refused = post_form(w.admin_browser, other, {"role": "monitor", "region": "", "active": "y"})
    assert refused.status_code == 422
    assert "Choose the region this Comforça member follows." in text(refused)
    assert load(app, w.coordinator.email).role == "coordinator"


def test_the_command_line_creates_a_monitor_for_a_region(app, w, runner):
    password = "uma senha comprida\n"
    args = ["users", "create", "comforca@pbh.gov.br", "--password-stdin"]
    result = runner.invoke(
        args=[*args, "--role", "monitor", "--region", "barreiro"], input=password
    )
    assert result.exit_code == 0, result.output
    assert "Created monitor account comforca@pbh.gov.br." in result.output
    user = load(app, "comforca@pbh.gov.br")
    assert (user.role, user.region_id) == ("monitor", w.barreiro_id)

    for extra, message in (
        (["--role", "monitor"], "--role monitor needs --region"),
        (["--role", "coordinator", "--region", "barreiro"], "--region is only for"),
    ):
        refused = runner.invoke(
            args=["users", "create", "x@pbh.gov.br", "--password-stdin", *extra]
        )
        assert refused.exit_code == 2 and message in refused.output, refused.output
    unknown = runner.invoke(
        args=[*args[:2], "y@pbh.gov.br", "--password-stdin", "--role", "monitor", "--region", "z"],
        input=password,
    )
    assert unknown.exit_code == 1 and "There is no region called z." in unknown.output
    assert "Traceback" not in unknown.output
    assert load(app, "x@pbh.gov.br") is None and load(app, "y@pbh.gov.br") is None


# --- photos --------------------------------------------------------------------------------


def test_photos_go_with_the_report_and_are_public_once_it_is_approved(app, w):
    photo = (io.BytesIO(png()), "obra.png")
    data = {
        "body": BODY,
        "photos-0-image": photo,
        "photos-0-alt_text": "Alambrado novo ao redor da quadra",
    }
    response = post_form(
        w.monitor_browser, report_url(w.work), data, content_type="multipart/form-data"
    )
    assert response.status_code == 303, text(response)
    (report,) = reports_in_db(app)
    assert report.photos == 1
    with app.app_context():
        key = db.session.scalar(sa.select(WorkPhoto.key))
    thumbnail = f"/fotos/{key}/miniatura.jpg"
    assert english_client(app).get(thumbnail).status_code == 404  # not before approval
    assert w.monitor_browser.get(thumbnail).status_code == 404  # nor to its author
    queue = w.coordinator_browser.get(QUEUE).get_data(as_text=True)
    assert f'src="{thumbnail}"' in queue and 'alt="Alambrado novo ao redor da quadra"' in queue
    assert w.coordinator_browser.get(thumbnail).status_code == 200  # staff preview it

    moderate(app, w.coordinator_browser, report.id, "approve")
    public = english_client(app)
    page = public.get(f"/propostas/{w.work}").get_data(as_text=True)
    reports_part = page.split('id="reports-title"')[1]
    assert f'src="{thumbnail}"' in reports_part
    assert 'alt="Alambrado novo ao redor da quadra"' in reports_part
    assert public.get(thumbnail).status_code == 200


@pytest.mark.parametrize(
    ("photo", "alt_text", "message"),
    [
        (png(), "", "Describe the photo for people who cannot see it."),
        (None, "Uma foto que não foi enviada", "Choose the photo this text describes"),
        (b"not an image at all", "Texto", "not a photo in JPEG, PNG or WebP format"),
        (png(), "Linha um\nlinha dois", "on one line"),
        (png(), "x" * 301, "Use at most 300 characters."),
    ],
)
def test_a_photo_needs_its_description_and_must_be_an_image(app, w, photo, alt_text, message):
    data = {"body": BODY, "photos-1-alt_text": alt_text}
    if photo is not None:
        data["photos-1-image"] = (io.BytesIO(photo), "foto.png")
    response = post_form(
        w.monitor_browser, report_url(w.work), data, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert message in text(response)
    assert page_problems(response.get_data(as_text=True)) == []
    assert reports_in_db(app) == []


# --- hostile input -------------------------------------------------------------------------


def test_an_upload_too_large_is_a_clean_413(app, w):
    size = app.config["PHOTO_MAX_UPLOAD_MB"] * 1024 * 1024 + 100 * 1024
    data = {
        "body": BODY,
        "photos-0-image": (io.BytesIO(b"\xff" * size), "enorme.jpg"),
        "photos-0-alt_text": "Foto grande demais",
    }
    response = post_form(
        w.monitor_browser, report_url(w.work), data, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)
    assert reports_in_db(app) == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("", 422, "Write your report."),
        ("curto", 422, "between 20 and 5000 characters"),
        ("x" * 5001, 422, "between 20 and 5000 characters"),
        (BODY + "\x1b[31m", 422, "invisible control characters"),
        (BODY + "\u2028", 422, "invisible control characters"),
        (BODY + "\x00", 400, "not allowed"),
    ],
)
def test_bad_report_text_is_refused_clearly(app, w, body, status, message):
    response = send_report(app, w.monitor_browser, w.work, body)
    assert response.status_code == status
    assert message in text(response)
    assert reports_in_db(app) == []


def test_hostile_moderation_input_is_a_4xx(app, w):
    send_report(app, w.monitor_browser, w.work)
    (report,) = reports_in_db(app)
    browser = w.coordinator_browser
    for note, message in (("x" * 1001, "Use at most 1000 characters."), ("a\x07b", "control")):
        response = moderate(app, browser, report.id, "reject", note)
        assert response.status_code == 422 and message in text(response)
    assert browser.post(f"{QUEUE}/{report.id}/approve").status_code == 400  # no CSRF token
    for url in (f"{QUEUE}/99999999999999/approve", f"{QUEUE}/-1/reject", f"{QUEUE}/x/approve"):
        assert browser.post(url, data={"csrf_token": token(app, browser)}).status_code == 404
    assert browser.get(f"{QUEUE}/{report.id}/approve").status_code == 405
    assert reports_in_db(app)[0].status == "pending"
    # Text posted where a tick is expected, or a flood of photo slots: read, never a 500.
    response = send_report(
        app,
        w.monitor_browser,
        w.work,
        show_author_name="<script>",
        **{f"photos-{n}-alt_text": "" for n in range(0, 400, 7)},
    )
    assert response.status_code == 303


# --- fuzzing (tests/test_fuzz_forms.py's strategies and checks) ------------------------------

FUZZ_CASES = {
    # name: (who posts, prefix, url, valid fields, free-text fields)
    "report": (
        "monitor",
        "",
        lambda w, report_id: report_url(w.work),
        {"body": BODY, "show_author_name": "y", "photos-0-alt_text": ""},
        {"body"},
    ),
    "reject": (
        "coordinator",
        "reject-{id}-",
        lambda w, report_id: f"{QUEUE}/{report_id}/reject",
        {"note": "Reescreva sem citar moradores."},
        {"note"},
    ),
}


@pytest.mark.fuzz
@pytest.mark.parametrize("name", sorted(FUZZ_CASES))
def test_report_forms_survive_hostile_input(app, w, name):
    role, prefix, url, fields, free_text = FUZZ_CASES[name]
    send_report(app, w.monitor_browser, w.work)
    report_id = reports_in_db(app)[0].id
    person = getattr(w, role)

    @given(pairs=form_data(fields))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def post(pairs):
        with app.app_context():  # the report waits again, so each example can decide it
            db.session.execute(
                sa.update(MonitoringReport).values(
                    status="pending", moderation_note="", moderated_by_id=None, moderated_at=None
                )
            )
            db.session.commit()
            before, audits = table_digests(), audit_count()
            db.session.remove()
        client = english_client(app)
        login_as(client, person)
        field_prefix = prefix.format(id=report_id)
        sent = [(f"{field_prefix}{field}", value) for field, value in pairs]
        data = MultiDict([("csrf_token", token(app, client)), *sent])
        response = client.post(url(w, report_id), data=data)
        check_answer(app, response.status_code, pairs, before, audits, text=free_text)

    post()
