"""Staff sign-in and sign-out: credentials, safe redirects, CSRF, per-account and per-IP limits."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
import redis
import sqlalchemy as sa

from opdigital import attempt_limits
from opdigital.accounts.models import User
from opdigital.attempt_limits import INFLIGHT_SECONDS
from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from tests.support import factories
from tests.support.client import at_once, csrf_token, english_client, login_as, post_form

GENERIC_ERROR = "The e-mail or password is not correct, or the account is disabled."


@pytest.fixture
def staff(app):
    """One account per role (plus a disabled one), as plain values usable outside the app."""
    return factories.staff_per_role(app, disabled=True)


@pytest.fixture
def client(app):
    """A client that sees the English UI, so messages can be asserted whatever the catalogue."""
    return english_client(app)


def sign_in(client, email, password=factories.PASSWORD, url="/login", **kwargs):
    return post_form(client, url, {"email": email, "password": password}, **kwargs)


def audit_actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry.action, AuditEntry.actor_email))
        return [tuple(row) for row in rows]


def test_login_page_has_labelled_fields(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="email">' in html and '<label for="password">' in html
    assert 'name="csrf_token"' in html


@pytest.mark.parametrize(
    ("role", "home"),
    [("admin", "/staff/"), ("coordinator", "/staff/"), ("auditor", "/audit/")],
)
def test_login_success_goes_to_the_role_home(app, client, staff, role, home):
    response = sign_in(client, staff[role].email)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    with app.app_context():
        user = db.session.get(User, staff[role].id)
        assert user.last_login_at is not None
        with client.session_transaction() as session:
            assert session["_user_id"] == f"{user.id}:{user.session_token}"
    assert ("user.login", staff[role].email) in audit_actions(app)


def test_login_ignores_case_and_spaces_in_the_email(client, staff):
    response = sign_in(client, "  " + staff["coordinator"].email.upper() + " ")
    assert response.status_code == 302


def test_wrong_password_unknown_email_and_disabled_account_get_the_same_401(client, staff):
    bodies = []
    for email, password in [
        (staff["coordinator"].email, "wrong password!"),
        ("nobody@pbh.gov.br", factories.PASSWORD),
        (staff["disabled"].email, factories.PASSWORD),
    ]:
        response = sign_in(client, email, password)
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert GENERIC_ERROR in html
        bodies.append(html.count(GENERIC_ERROR))
        with client.session_transaction() as session:
            assert "_user_id" not in session
    assert bodies == [1, 1, 1]


def test_empty_form_is_refused_with_a_message(client):
    response = post_form(client, "/login", {"email": "", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter your e-mail address." in html
    assert "Enter your password." in html


def test_login_without_csrf_token_is_refused(client, staff):
    response = client.post(
        "/login", data={"email": staff["admin"].email, "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_safe_next_is_honoured(client, staff):
    response = sign_in(client, staff["auditor"].email, url="/login?next=/audit/%3Fpage%3D2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/audit/?page=2"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example", "http://evil.example/x", "/\\evil.example", ""],
)
def test_unsafe_next_is_refused(client, staff, target):
    html = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert '<form method="post" action="/login" novalidate>' in html  # next is not carried on
    response = sign_in(
        client, staff["coordinator"].email, url="/login", query_string={"next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"


def test_protected_page_sends_to_login_and_back(client, staff):
    response = client.get("/staff/accounts")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    response = sign_in(client, staff["admin"].email, url=location)
    assert response.headers["Location"] == "/staff/accounts"


def test_signed_in_user_visiting_login_goes_home(client, staff):
    login_as(client, SimpleNamespace(id=staff["auditor"].id))
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/audit/"


def test_logout_signs_out_and_is_audited(app, client, staff):
    sign_in(client, staff["admin"].email)
    response = post_form(client, "/logout", {}, form_url="/staff/accounts")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/staff/accounts").status_code == 302
    assert ("user.logout", staff["admin"].email) in audit_actions(app)


def test_logout_without_csrf_token_is_refused(client, staff):
    login_as(client, SimpleNamespace(id=staff["admin"].id))
    assert client.post("/logout").status_code == 400
    assert client.get("/staff/accounts").status_code == 200


def test_logout_when_not_signed_in_just_goes_home(client):
    response = post_form(client, "/logout", {}, form_url="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- failed sign-ins: per address and account, and the account's ceiling --------------------


@pytest.fixture
def three_failures_allowed(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT", "3 per 15 minutes")


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_failures_pause_the_account_for_that_address_even_for_the_right_password(
    app, client, staff, three_failures_allowed
):
    email = staff["coordinator"].email
    for _ in range(3):
        assert sign_in(client, email, "wrong password!").status_code == 401
    response = sign_in(client, email.upper())  # the right password, e-mail in another case
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 15 * 60
    html = response.get_data(as_text=True)
    assert "Too many failed sign-in attempts" in html
    assert "from this connection" in html
    with client.session_transaction() as session:
        assert "_user_id" not in session
    # Another account from the same address is not affected.
    assert sign_in(client, staff["auditor"].email).status_code == 302


def test_wrong_passwords_sent_by_others_do_not_keep_a_coordinator_out(
    app, staff, three_failures_allowed
):
    email = staff["coordinator"].email
    attacker = english_client(app)
    for _ in range(10):  # far past the per-address limit, from the attacker's address
        sign_in(attacker, email, "wrong password!", **_from("203.0.113.66"))
    coordinator = english_client(app)
    assert sign_in(coordinator, email, **_from("198.51.100.10")).status_code == 302


def test_the_accounts_ceiling_pauses_it_everywhere(app, staff, monkeypatch, three_failures_allowed):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "6 per hour")
    email = staff["coordinator"].email
    for address in ("203.0.113.1", "203.0.113.2"):
        attacker = english_client(app)
        for _ in range(3):
            assert sign_in(attacker, email, "wrong password!", **_from(address)).status_code == 401
    # Six failures from two places: the ceiling. Now nobody signs in to it for the window...
    coordinator = english_client(app)
    response = sign_in(coordinator, email, **_from("198.51.100.10"))
    assert response.status_code == 429
    assert "from several places" in response.get_data(as_text=True)
    assert 3000 < int(response.headers["Retry-After"]) <= 3600
    # ...refused attempts add nothing, and other accounts are untouched.
    assert sign_in(coordinator, staff["auditor"].email, **_from("198.51.100.10")).status_code == 302


def test_unknown_email_is_paused_the_same_way(client, three_failures_allowed):
    for _ in range(3):
        assert sign_in(client, "nobody@pbh.gov.br", "wrong password!").status_code == 401
    response = sign_in(client, "nobody@pbh.gov.br", "wrong password!")
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_success_clears_earlier_failures_from_that_address(app, staff, three_failures_allowed):
    email = staff["coordinator"].email
    client = app.test_client()
    for _ in range(2):
        sign_in(client, email, "wrong password!")
    assert sign_in(client, email).status_code == 302
    client = app.test_client()  # a fresh browser: the first one is signed in
    for _ in range(2):
        assert sign_in(client, email, "wrong password!").status_code == 401
    assert sign_in(client, email).status_code == 302


def test_failures_are_shared_through_redis_under_hmac_keys(app, staff, three_failures_allowed):
    email = staff["coordinator"].email
    first, second = app.test_client(), app.test_client()
    for _ in range(3):
        assert sign_in(first, email, "wrong password!").status_code == 401
    # A different client (another browser, another app instance) sees the same count.
    assert sign_in(second, email).status_code == 429

    store = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    keys = [k.decode() for k in store.scan_iter(f"*{app.config['RATELIMIT_KEY_PREFIX']}*")]
    counters = [k for k in keys if not k.endswith("/inflight")]
    assert len([k for k in counters if "/login-address-account/" in k]) == 1
    assert len([k for k in counters if "/login-account/" in k]) == 1
    # The store never holds the address, nor its plain hash (which could be guessed).
    plain_digest = hashlib.sha256(email.encode()).hexdigest()
    assert not any(email in k or plain_digest in k for k in keys)


def test_a_first_try_success_leaves_nothing_in_the_store(app, client, staff):
    assert sign_in(client, staff["admin"].email).status_code == 302
    store = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    keys = [k.decode() for k in store.scan_iter(f"*{app.config['RATELIMIT_KEY_PREFIX']}*")]
    counters = [k for k in keys if "/login-address-account/" in k or "/login-account/" in k]
    assert [k for k in counters if not k.endswith("/inflight")] == []
    assert all(0 < store.ttl(k) <= INFLIGHT_SECONDS for k in counters)  # places in flight only


def test_parallel_guesses_cannot_pass_the_limit(app, staff, three_failures_allowed):
    # The check and the count are one atomic step: a burst of guesses sent at once gets no more
    # tries than the limit.
    email = staff["coordinator"].email

    def ready():
        client = app.test_client()
        return client, csrf_token(client, "/login")

    def guess(prepared) -> int:
        client, token = prepared
        response = client.post(
            "/login", data={"csrf_token": token, "email": email, "password": "wrong password!"}
        )
        return response.status_code

    assert sorted(at_once(12, ready, guess)) == [401] * 3 + [429] * 9


def test_store_outage_does_not_lock_everyone_out(app, client, staff, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT", "2 per 15 minutes")

    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("down")

    # Our limits' scripts fail as they would with Redis down (Flask-Limiter's are left alone:
    # its own fallback would outlive this test).
    monkeypatch.setattr(attempt_limits, "_script", unreachable)
    email = staff["coordinator"].email
    assert sign_in(client, email, "wrong password!").status_code == 401
    assert sign_in(client, email).status_code == 302  # counted in this process meanwhile
    other = english_client(app)
    for _ in range(2):
        assert sign_in(other, staff["auditor"].email, "wrong password!").status_code == 401
    assert sign_in(other, staff["auditor"].email).status_code == 429  # the limit held
