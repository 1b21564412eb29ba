"""Staff sessions end everywhere on sign-out, a new password, a role change and deactivation.

Sessions live in signed cookies, so "everywhere" includes a copy of the cookie taken before
(another browser, or someone who copied it): each test copies the cookie into a second client,
and after the event that copy gets the sign-in redirect on /staff/.
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from opdigital.accounts.models import User
from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from tests.support import factories
from tests.support.client import english_client, login_as, post_form

NEW_PASSWORD = "gaveta azul de pedra morna"
SIGN_IN_REDIRECT = "/login?next=%2Fstaff%2F"


@pytest.fixture
def staff(app):
    with app.app_context():
        people = {
            "admin": factories.user("admin"),
            "coordinator": factories.user("coordinator", name="Ana Souza"),
        }
        return {key: SimpleNamespace(id=u.id, email=u.email) for key, u in people.items()}


def browser(app):
    return english_client(app)


def signed_in(app, person) -> object:
    """A browser signed in through the sign-in form, as a person would."""
    client = browser(app)
    data = {"email": person.email, "password": factories.PASSWORD}
    assert post_form(client, "/login", data).status_code == 302
    return client


def copy_of(app, client) -> object:
    """Another browser holding the same session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    return other


def assert_signed_in(client) -> None:
    assert client.get("/staff/").status_code == 200


def assert_signed_out(client) -> None:
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"] == SIGN_IN_REDIRECT


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


# --- the four events ------------------------------------------------------------------------


def test_signing_out_ends_every_session_of_the_account(app, staff):
    first = signed_in(app, staff["coordinator"])
    copied = copy_of(app, first)
    elsewhere = signed_in(app, staff["coordinator"])  # another browser, its own sign-in
    someone_else = signed_in(app, staff["admin"])
    for client in (first, copied, elsewhere):
        assert_signed_in(client)

    response = post_form(first, "/logout", {}, form_url="/staff/")
    assert response.status_code == 302
    for client in (first, copied, elsewhere):
        assert_signed_out(client)
    assert_signed_in(someone_else)  # other accounts are not affected
    assert audit_actions(app).count("user.logout") == 1
    # Signing in again works, and starts a session that the old cookies do not share.
    again = signed_in(app, staff["coordinator"])
    assert_signed_in(again)
    assert_signed_out(copied)


def test_a_new_password_ends_every_session_of_the_account(app, staff):
    target = signed_in(app, staff["coordinator"])
    copied = copy_of(app, target)
    admin = signed_in(app, staff["admin"])
    url = f"/staff/accounts/{staff['coordinator'].id}/password"
    data = {"pw-password": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD}
    response = post_form(admin, url, data, form_url=f"/staff/accounts/{staff['coordinator'].id}")
    assert response.status_code == 302
    assert_signed_out(target)
    assert_signed_out(copied)
    assert admin.get("/staff/accounts").status_code == 200  # the admin's session goes on


def test_a_role_change_ends_every_session_but_a_new_name_alone_does_not(app, staff):
    target = signed_in(app, staff["coordinator"])
    copied = copy_of(app, target)
    admin = signed_in(app, staff["admin"])
    admin_copy = copy_of(app, admin)
    url = f"/staff/accounts/{staff['coordinator'].id}"
    renamed = {"name": "Ana Souza Lima", "role": "coordinator", "active": "y"}
    assert post_form(admin, url, renamed).status_code == 302
    assert_signed_in(target)
    assert post_form(admin, url, renamed | {"role": "auditor"}).status_code == 302
    assert_signed_out(target)
    assert_signed_out(copied)
    # The admin who made the change is unaffected, in this browser and any other.
    assert admin.get("/staff/accounts").status_code == 200
    assert admin_copy.get("/staff/accounts").status_code == 200
    assert audit_actions(app).count("user.update") == 2


def test_deactivation_ends_every_session_for_good(app, staff):
    target = signed_in(app, staff["coordinator"])
    copied = copy_of(app, target)
    admin = signed_in(app, staff["admin"])
    url = f"/staff/accounts/{staff['coordinator'].id}"
    disabled = {"name": "Ana Souza", "role": "coordinator"}  # the checkbox left out
    assert post_form(admin, url, disabled).status_code == 302
    assert_signed_out(target)
    assert_signed_out(copied)
    # Turned back on, the account signs in afresh: the old cookies stay dead.
    assert post_form(admin, url, disabled | {"active": "y"}).status_code == 302
    assert_signed_out(target)
    assert_signed_out(copied)
    assert_signed_in(signed_in(app, staff["coordinator"]))
    assert admin.get("/staff/accounts").status_code == 200


def test_an_admin_changing_their_own_password_keeps_this_session_only(app, staff):
    admin = signed_in(app, staff["admin"])
    copied = copy_of(app, admin)
    url = f"/staff/accounts/{staff['admin'].id}/password"
    data = {"pw-password": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD}
    response = post_form(admin, url, data, form_url=f"/staff/accounts/{staff['admin'].id}")
    assert response.status_code == 302
    assert admin.get("/staff/accounts").status_code == 200
    assert_signed_out(copied)


# --- what the cookie must carry -------------------------------------------------------------


def test_a_cookie_without_the_current_token_is_refused(app, staff):
    coordinator = staff["coordinator"]
    with app.app_context():
        token = db.session.get(User, coordinator.id).session_token
    for session_id in (
        str(coordinator.id),  # a cookie from before this release: sign in again
        f"{coordinator.id}:",
        f"{coordinator.id}:{secrets.token_urlsafe(32)}",
        f"{coordinator.id}:{token[:-1]}",
        f"{coordinator.id}:{token}é",
        f"x{coordinator.id}:{token}",
        f"99999999999999:{token}",
    ):
        client = browser(app)
        with client.session_transaction() as session:
            session["_user_id"] = session_id
        assert_signed_out(client)
    client = browser(app)
    login_as(client, coordinator)
    assert_signed_in(client)


def test_the_session_token_is_random_per_account_and_never_audited(app, staff):
    with app.app_context():
        tokens = list(db.session.scalars(sa.select(User.session_token)))
        assert len(set(tokens)) == len(tokens) == 2
        assert all(len(t) >= 43 for t in tokens)
    admin = signed_in(app, staff["admin"])
    post_form(admin, "/logout", {}, form_url="/staff/")
    with app.app_context():
        for entry in db.session.scalars(sa.select(AuditEntry)):
            assert not any(t in str(entry.as_dict()) for t in tokens)


# --- the migration --------------------------------------------------------------------------


def test_the_migration_gives_existing_accounts_a_fresh_random_token(make_app, database_url):
    server = make_url(database_url).set(drivername="postgresql")
    name = f"{server.database}_sessions"
    admin_dsn = server.render_as_string(False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(database_url).set(database=name).render_as_string(False)
        app = make_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            upgrade(revision="0004sealguard")
            with db.engine.begin() as conn:
                for n in range(3):
                    conn.execute(
                        sa.text(
                            "INSERT INTO user_account (email, name, password_hash, role, active,"
                            " created_at) VALUES (:email, '', 'x', 'auditor', true, now())"
                        ),
                        {"email": f"pessoa{n}@pbh.gov.br"},
                    )
            upgrade(revision="0005staffsessions")
            with db.engine.connect() as conn:
                tokens = list(conn.scalars(sa.text("SELECT session_token FROM user_account")))
            assert len(tokens) == len(set(tokens)) == 3
            assert all(token and len(token) >= 43 for token in tokens)
            db.engine.dispose()
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
