"""Staff passwords: at least 12 characters and hard to guess (zxcvbn score 3 or more).

One rule (`check_password_rules`) for every way a password is set: the admin screens (new
account, new password) and `opdigital users create`. The reason is given in our own words, in
the reader's language (zxcvbn's feedback is English-only).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opdigital.accounts.models import User
from opdigital.accounts.passwords import check_password_rules
from opdigital.accounts.services import NewUser, create_user
from opdigital.demo.loader import ACCOUNTS
from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from tests.support import factories
from tests.support.client import english_client, login_as, post_form

STRONG = "gaveta azul de pedra morna"


def refusal(password: str, **account) -> str:
    with pytest.raises(ValidationFailed) as refused:
        check_password_rules(password, **account)
    assert refused.value.code == "weak_password"
    return str(refused.value)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password1234", "one of the most common passwords"),
        ("Password12345", "one of the most common passwords"),
        ("qwertyuiopasdf", "one of the most common passwords"),
        ("zxcvbnmasdfghjkl", "one of the most common passwords"),  # keyboard rows, listed
        ("xcvbnm,./xcv", "keyboard"),
        ("aaaaaaaaaaaaaa", "repeats characters"),
        ("abcdefghijklmn", "easy sequence"),
        ("senha12345678", "most common passwords"),
        ("opdigital2026!", "a word anyone would try here first"),
        ("belohorizonte2026", "a word anyone would try here first"),
    ],
)
def test_weak_and_common_passwords_are_refused_with_the_reason(app_ctx, password, reason):
    message = refusal(password)
    assert "This password is too easy to guess." in message
    assert reason in message
    assert "four or more unrelated words" in message


def test_a_password_made_from_the_accounts_own_name_or_e_mail_is_refused(app_ctx):
    account = {"email": "ana.souza@pbh.gov.br", "name": "Ana Souza"}
    for password in ("anasouza2026!", "ana.souza@pbh.gov.br", "AnaSouza#2026"):
        assert "the account's name or e-mail address" in refusal(password, **account)
    check_password_rules("anasouza2026!")  # strong enough for someone else


def test_short_passwords_are_refused_first(app_ctx):
    assert refusal("Xq7#mP2!vL9") == "The password must have at least 12 characters."


@pytest.mark.parametrize(
    "password",
    [
        STRONG,
        "correct horse battery",
        "another long passphrase",
        "uma senha comprida",
        "G7#qX!2m@Lp9&zR4",
        "x" * 5 + "Qz9!kT" * 40,  # long: only the first 72 characters are scored
    ],
)
def test_strong_passwords_pass(app_ctx, password):
    check_password_rules(password, email="ana.souza@pbh.gov.br", name="Ana Souza")


def test_the_demo_accounts_and_the_test_password_pass(app_ctx):
    for account in ACCOUNTS:
        check_password_rules(account.password, email=account.email, name=account.name)
    check_password_rules(factories.PASSWORD, email="admin1@pbh.gov.br", name="Admin 1")


# --- every way in ---------------------------------------------------------------------------


@pytest.fixture
def admin(app):
    client = english_client(app)
    with app.app_context():
        login_as(client, SimpleNamespace(id=factories.user("admin").id))
        target = factories.user("coordinator", email="ana.souza@pbh.gov.br", name="Ana Souza")
        return SimpleNamespace(client=client, target_id=target.id, target_hash=target.password_hash)


def test_admin_screen_refuses_a_weak_new_account_password(app, admin):
    data = {
        "email": "nova.pessoa@pbh.gov.br",
        "name": "Nova Pessoa",
        "role": "coordinator",
        "password": "password1234",
        "confirm": "password1234",
    }
    response = post_form(admin.client, "/staff/accounts/new", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This password is too easy to guess." in page
    assert "At least 12 characters" in page
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == data["email"])) is None


def test_admin_screen_refuses_a_weak_or_personal_new_password(app, admin):
    url = f"/staff/accounts/{admin.target_id}/password"
    for password, reason in [
        ("iloveyou1234", "most common"),
        ("anasouza2026!", "name or e-mail address"),
    ]:
        data = {"pw-password": password, "pw-confirm": password}
        response = post_form(admin.client, url, data, form_url=f"/staff/accounts/{admin.target_id}")
        assert response.status_code == 422
        assert reason in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin.target_id).password_hash == admin.target_hash


def test_admin_screen_refuses_eleven_characters(app, admin):
    url = f"/staff/accounts/{admin.target_id}/password"
    data = {"pw-password": "Xq7#mP2!vL9", "pw-confirm": "Xq7#mP2!vL9"}
    response = post_form(admin.client, url, data, form_url=f"/staff/accounts/{admin.target_id}")
    assert response.status_code == 422
    assert "between 12 and 200 characters" in response.get_data(as_text=True)


def test_command_refuses_a_weak_password(app, runner):
    args = ["users", "create", "ana.souza@pbh.gov.br", "--role", "admin"]
    result = runner.invoke(
        args=[*args, "--name", "Ana Souza", "--password-stdin"], input="anasouza2026!\n"
    )
    assert result.exit_code == 1
    assert "This password is too easy to guess." in result.output
    assert "the account's name or e-mail address" in result.output
    result = runner.invoke(args=[*args, "--password-stdin"], input=STRONG + "\n")
    assert result.exit_code == 0, result.output


def test_service_refuses_a_weak_password(app_ctx):
    with pytest.raises(ValidationFailed):
        create_user(NewUser("x@pbh.gov.br", "123456789012", "auditor"))
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_the_dummy_hash_an_unknown_e_mail_is_checked_against_costs_what_a_real_one_does():
    """Written out, not made at import: it must carry the hasher's own parameters (memory, time,
    lanes, lengths), or a login with an unknown e-mail would answer faster than a wrong
    password; and no password opens it for anyone."""
    from argon2 import PasswordHasher, extract_parameters

    from opdigital.accounts import services

    hasher = PasswordHasher()
    assert extract_parameters(services.dummy_hash()) == extract_parameters(hasher.hash("anything"))
    assert not services._hasher.check_needs_rehash(services.dummy_hash())
    assert services.dummy_hash() == services._DUMMY_HASH
    assert hasher.verify(services.dummy_hash(), "not-a-real-password")


def test_authenticate_refuses_an_unknown_e_mail_whatever_the_password(app_ctx):
    from opdigital.accounts.services import authenticate

    assert authenticate("nobody@pbh.gov.br", "not-a-real-password") is None
    assert authenticate("nobody@pbh.gov.br", "") is None
