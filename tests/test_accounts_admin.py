"""Admin account management: access by role, CSRF, creation, edits, passwords, audit entries."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opdigital.accounts.models import User
from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from tests.support import factories
from tests.support.client import (
    assert_access_by_role,
    csrf_token,
    english_client,
    login_as,
    post_form,
)

NEW_PASSWORD = "another long passphrase"


@pytest.fixture
def staff(app):
    return factories.staff_per_role(app)


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def admin(client, staff):
    login_as(client, staff["admin"])
    return client


def load_user(app, user_id: int) -> SimpleNamespace:
    with app.app_context():
        u = db.session.get(User, user_id)
        return SimpleNamespace(
            email=u.email, name=u.name, role=u.role, active=u.active, hash=u.password_hash
        )


def audit_entries(app, action: str) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action))
        return [entry.as_dict() for entry in rows]


def new_user_data(**overrides) -> dict:
    return {
        "email": "nova.pessoa@pbh.gov.br",
        "name": "Nova Pessoa",
        "role": "coordinator",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    } | overrides


# --- access ----------------------------------------------------------------------------------

GET_ROUTES = ["/staff/accounts", "/staff/accounts/new", "/staff/accounts/{id}"]
POST_ROUTES = [
    ("/staff/accounts/new", new_user_data()),
    ("/staff/accounts/{id}", {"name": "X", "role": "auditor", "active": "y"}),
    ("/staff/accounts/{id}/password", {"pw-password": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD}),
]


@pytest.mark.parametrize("route", GET_ROUTES)
def test_get_routes_by_role(app, staff, route):
    url = route.format(id=staff["coordinator"].id)
    assert_access_by_role(app, url, staff, {"admin": 200, "coordinator": 403, "auditor": 403})


@pytest.mark.parametrize(("route", "data"), POST_ROUTES)
def test_post_routes_by_role(app, staff, route, data):
    url = route.format(id=staff["coordinator"].id)
    anonymous = app.test_client()
    response = post_form(anonymous, url, data, form_url="/login")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    for role in ("coordinator", "auditor"):
        client = app.test_client()
        login_as(client, staff[role])
        token = csrf_token(client, "/")
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403
    assert load_user(app, staff["coordinator"].id).role == "coordinator"  # nothing changed


@pytest.mark.parametrize(("route", "data"), POST_ROUTES)
def test_post_routes_refuse_missing_csrf_token(app, admin, staff, route, data):
    url = route.format(id=staff["coordinator"].id)
    response = admin.post(url, data=data)
    assert response.status_code == 400
    before = load_user(app, staff["coordinator"].id)
    assert before.role == "coordinator" and before.name != "X"


# --- list ------------------------------------------------------------------------------------


def test_list_shows_every_account(admin, staff):
    html = admin.get("/staff/accounts").get_data(as_text=True)
    for person in staff.values():
        assert person.email in html
    assert "Administrator" in html and "Auditor" in html
    assert '<th scope="col">' in html
    assert "Never" in html  # nobody signed in through the form yet


# --- create ----------------------------------------------------------------------------------


def test_create_account_and_audit_entry(app, admin, staff):
    response = post_form(
        admin, "/staff/accounts/new", new_user_data(email=" Nova.Pessoa@PBH.gov.br")
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/accounts"
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "nova.pessoa@pbh.gov.br"))
        assert user.role == "coordinator" and user.name == "Nova Pessoa" and user.active
        assert user.password_hash.startswith("$argon2id$")
    (entry,) = audit_entries(app, "user.create")
    assert entry["actor_email"] == staff["admin"].email
    assert entry["object_id"] == "nova.pessoa@pbh.gov.br"
    assert entry["after"] == {"email": "nova.pessoa@pbh.gov.br", "role": "coordinator"}
    assert NEW_PASSWORD not in str(entry)
    # The new account can sign in.
    fresh = app.test_client()
    response = post_form(
        fresh, "/login", {"email": "nova.pessoa@pbh.gov.br", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid e-mail address."),
        ({"email": ""}, "Enter an e-mail address."),
        ({"password": "short", "confirm": "short"}, "The password must have between"),
        ({"confirm": "something else entirely"}, "The two passwords do not match."),
        ({"role": "superuser"}, "Not a valid choice"),
        ({"name": "N" * 121}, "At most 120 characters."),
        ({"name": "Maria\nSouza"}, "on one line"),
        ({"name": "Maria\u2028Souza"}, "on one line"),
        ({"email": "maria@pbh.gov.br\r\nBcc: x@evil.example"}, "on one line"),
    ],
)
def test_create_refuses_bad_input(app, admin, overrides, message):
    response = post_form(admin, "/staff/accounts/new", new_user_data(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3


def test_create_refuses_a_duplicate_email(app, admin, staff):
    data = new_user_data(email=staff["coordinator"].email.upper())
    response = post_form(admin, "/staff/accounts/new", data)
    assert response.status_code == 422
    assert "An account with this e-mail already exists." in response.get_data(as_text=True)
    assert audit_entries(app, "user.create") == []


# --- edit ------------------------------------------------------------------------------------


def test_edit_account_and_audit_entry(app, admin, staff):
    url = f"/staff/accounts/{staff['coordinator'].id}"
    assert staff["coordinator"].email in admin.get(url).get_data(as_text=True)
    response = post_form(admin, url, {"name": "Maria Souza", "role": "auditor"})  # active unticked
    assert response.status_code == 302
    user = load_user(app, staff["coordinator"].id)
    assert (user.name, user.role, user.active) == ("Maria Souza", "auditor", False)
    (entry,) = audit_entries(app, "user.update")
    assert entry["actor_email"] == staff["admin"].email
    assert entry["before"]["role"] == "coordinator" and entry["before"]["active"] is True
    assert entry["after"] == {"role": "auditor", "active": False, "name": "Maria Souza"}


def test_disabled_account_loses_its_session(app, admin, staff):
    other = app.test_client()
    login_as(other, staff["auditor"])
    assert other.get("/audit/").status_code == 200
    url = f"/staff/accounts/{staff['auditor'].id}"
    post_form(admin, url, {"name": "", "role": "auditor"})
    response = other.get("/audit/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "data", [{"name": "", "role": "coordinator", "active": "y"}, {"name": "", "role": "admin"}]
)
def test_admin_cannot_lock_themselves_out(app, admin, staff, data):
    response = post_form(admin, f"/staff/accounts/{staff['admin'].id}", data)
    assert response.status_code == 409
    assert "You cannot remove your own administrator access." in response.get_data(as_text=True)
    user = load_user(app, staff["admin"].id)
    assert user.role == "admin" and user.active
    assert audit_entries(app, "user.update") == []


def test_edit_refuses_bad_input(app, admin, staff):
    url = f"/staff/accounts/{staff['coordinator'].id}"
    response = post_form(admin, url, {"name": "x" * 200, "role": "nonsense", "active": "y"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "At most 120 characters." in html and "Not a valid choice" in html
    assert load_user(app, staff["coordinator"].id).role == "coordinator"


@pytest.mark.parametrize(
    "url", ["/staff/accounts/999", "/staff/accounts/abc", "/staff/accounts/-1"]
)
def test_unknown_or_malformed_ids_are_404(admin, url):
    assert admin.get(url).status_code == 404
    assert admin.get(url + "/password").status_code in (404, 405)


# --- password --------------------------------------------------------------------------------


def test_set_password_and_audit_entry(app, admin, staff):
    target = staff["auditor"]
    old_hash = load_user(app, target.id).hash
    url = f"/staff/accounts/{target.id}/password"
    data = {"pw-password": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD}
    response = post_form(admin, url, data, form_url=f"/staff/accounts/{target.id}")
    assert response.status_code == 302
    assert load_user(app, target.id).hash != old_hash
    (entry,) = audit_entries(app, "user.set_password")
    assert entry["actor_email"] == staff["admin"].email and entry["object_id"] == target.email
    assert NEW_PASSWORD not in str(entry)

    fresh = app.test_client()
    old = post_form(fresh, "/login", {"email": target.email, "password": factories.PASSWORD})
    assert old.status_code == 401
    new = post_form(fresh, "/login", {"email": target.email, "password": NEW_PASSWORD})
    assert new.status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pw-password": "short", "pw-confirm": "short"}, "The password must have between"),
        ({"pw-password": NEW_PASSWORD, "pw-confirm": "different"}, "do not match"),
        ({}, "Enter a password."),
    ],
)
def test_set_password_refuses_bad_input(app, admin, staff, data, message):
    target = staff["auditor"]
    old_hash = load_user(app, target.id).hash
    url = f"/staff/accounts/{target.id}/password"
    response = post_form(admin, url, data, form_url=f"/staff/accounts/{target.id}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert load_user(app, target.id).hash == old_hash
