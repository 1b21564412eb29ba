"""Staff sign-in and sign-out: credentials, safe redirects, CSRF, per-account and per-IP limits."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
import redis
import sqlalchemy as sa

from opdigital.accounts import login_limits
from opdigital.accounts.models import User
from opdigital.audit.models import AuditEntry
from opdigital.extensions import db, limiter
from tests import factories
from tests.helpers import csrf_token, login_as, post_form

GENERIC_ERROR = "The e-mail or password is not correct, or the account is disabled."


@pytest.fixture
def staff(app):
    """One account per role (plus a disabled one), as plain values usable outside the app."""
    with app.app_context():
        people = {role: factories.user(role) for role in ("admin", "coordinator", "auditor")}
        people["disabled"] = factories.user("coordinator", active=False)
        return {
            key: SimpleNamespace(id=u.id, email=u.email, role=u.role) for key, u in people.items()
        }


@pytest.fixture
def client(app):
    """A client that sees the English UI, so messages can be asserted whatever the catalogue."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


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
    with client.session_transaction() as session:
        assert session["_user_id"] == str(staff[role].id)
    with app.app_context():
        user = db.session.get(User, staff[role].id)
        assert user.last_login_at is not None
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


# --- per-account limit on failed attempts ---------------------------------------------------


@pytest.fixture
def three_failures_allowed(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 15 minutes")


def test_account_locks_after_failures_even_for_the_right_password(
    client, staff, three_failures_allowed
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
    assert "try again in" in html
    with client.session_transaction() as session:
        assert "_user_id" not in session
    # Another account from the same address is not affected.
    assert sign_in(client, staff["auditor"].email).status_code == 302


def test_unknown_email_locks_the_same_way(client, three_failures_allowed):
    for _ in range(3):
        assert sign_in(client, "nobody@pbh.gov.br", "wrong password!").status_code == 401
    response = sign_in(client, "nobody@pbh.gov.br", "wrong password!")
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_success_clears_earlier_failures(app, staff, three_failures_allowed):
    email = staff["coordinator"].email
    client = app.test_client()
    for _ in range(2):
        sign_in(client, email, "wrong password!")
    assert sign_in(client, email).status_code == 302
    client = app.test_client()  # a fresh browser: the first one is signed in
    for _ in range(2):
        assert sign_in(client, email, "wrong password!").status_code == 401
    assert sign_in(client, email).status_code == 302


def test_account_lock_is_shared_through_redis(app, staff, three_failures_allowed):
    email = staff["coordinator"].email
    first, second = app.test_client(), app.test_client()
    for _ in range(3):
        assert sign_in(first, email, "wrong password!").status_code == 401
    # A different client (another browser, another app instance) sees the same lock.
    assert sign_in(second, email).status_code == 429

    store = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    keys = [k.decode() for k in store.scan_iter(f"*{app.config['RATELIMIT_KEY_PREFIX']}*")]
    account_keys = [k for k in keys if "login-account" in k]
    assert len(account_keys) == 1
    # The store never holds the address, nor its plain hash (which could be guessed).
    plain_digest = hashlib.sha256(email.encode()).hexdigest()
    assert not any(email in k or plain_digest in k for k in keys)


# --- per-IP limit ----------------------------------------------------------------------------


def test_per_ip_limit_on_login_posts(app, client, staff, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "3 per minute")
    emails = [f"person{i}@pbh.gov.br" for i in range(3)]
    for email in emails:
        assert sign_in(client, email, "wrong password!").status_code == 401
    token = csrf_token(client, "/login")  # GETs are not limited
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": staff["admin"].email, "password": factories.PASSWORD},
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many attempts" in response.get_data(as_text=True)

    # Another address still gets through, and the counter lives in Redis under our prefix.
    other = app.test_client()
    response = sign_in(other, staff["admin"].email, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302
    store = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    assert any("127.0.0.1" in k.decode() for k in store.scan_iter(f"*{prefix}*"))


def test_attempts_are_counted_before_the_password_is_checked(app, three_failures_allowed):
    # One atomic increment per attempt: parallel guesses cannot all slip past a separate check.
    with app.test_request_context():
        assert [login_limits.register_attempt("x@pbh.gov.br") for _ in range(3)] == [None] * 3
        lock = login_limits.register_attempt(" X@PBH.gov.br ")
        assert lock is not None and 1 <= lock.retry_after <= 15 * 60
        login_limits.clear("x@pbh.gov.br")
        assert login_limits.register_attempt("x@pbh.gov.br") is None


def test_store_outage_does_not_lock_everyone_out(app, monkeypatch, three_failures_allowed):
    def broken(*args, **kwargs):
        raise redis.ConnectionError("down")

    strategy = limiter.limiter
    for name in ("hit", "get_window_stats", "clear"):
        monkeypatch.setattr(strategy, name, broken)
    with app.test_request_context():
        assert login_limits.register_attempt("x@pbh.gov.br") is None
        login_limits.clear("x@pbh.gov.br")  # does not raise
