"""The `opdigital` command: `users create` and the console script itself."""

from __future__ import annotations

import sqlalchemy as sa

from opdigital.accounts.models import User
from opdigital.accounts.services import authenticate
from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from tests.support import factories
from tests.support.live import console_script

GOOD_PASSWORD = "uma senha comprida"


def users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.id)))


def assert_clean_failure(result, message: str) -> None:
    """Non-zero exit with a clear message and no Python traceback."""
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_create_with_password_from_stdin(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Ana.Souza@PBH.gov.br",
            "--role",
            "auditor",
            "--name",
            "Ana Souza",
            "--password-stdin",
        ],
        input=GOOD_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created auditor account ana.souza@pbh.gov.br." in result.output
    with app.app_context():
        [user] = users()
        assert (user.email, user.role, user.name) == (
            "ana.souza@pbh.gov.br",
            "auditor",
            "Ana Souza",
        )
        assert user.password_hash.startswith("$argon2id$")
        assert authenticate("ana.souza@pbh.gov.br", GOOD_PASSWORD).id == user.id
        assert authenticate("ana.souza@pbh.gov.br", "a wrong password") is None
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.create"))
        assert entry.after == {"email": "ana.souza@pbh.gov.br", "role": "auditor"}


def test_create_asks_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["users", "create", "coord@pbh.gov.br", "--role", "coordinator"],
        input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert GOOD_PASSWORD not in result.output  # the prompt hides what is typed
    with app.app_context():
        assert authenticate("coord@pbh.gov.br", GOOD_PASSWORD).role == "coordinator"


def test_passwords_that_do_not_match_create_nothing(app, runner):
    result = runner.invoke(
        args=["users", "create", "coord@pbh.gov.br", "--role", "coordinator"],
        input=f"{GOOD_PASSWORD}\nsomething else entirely\n",
    )
    assert result.exit_code != 0
    assert "do not match" in result.output
    with app.app_context():
        assert users() == []


def test_duplicate_email_is_refused(app, runner):
    with app.app_context():
        factories.user("admin", email="admin@pbh.gov.br")
    result = runner.invoke(
        args=["users", "create", "ADMIN@pbh.gov.br", "--role", "auditor", "--password-stdin"],
        input=GOOD_PASSWORD + "\n",
    )
    assert_clean_failure(result, "An account with this e-mail already exists.")
    with app.app_context():
        assert [u.role for u in users()] == ["admin"]


def test_weak_password_is_refused(app, runner):
    result = runner.invoke(
        args=["users", "create", "a@pbh.gov.br", "--role", "admin", "--password-stdin"],
        input="short\n",
    )
    assert_clean_failure(result, "at least 12 characters")
    empty = runner.invoke(
        args=["users", "create", "a@pbh.gov.br", "--role", "admin", "--password-stdin"], input=""
    )
    assert_clean_failure(empty, "at least 12 characters")
    with app.app_context():
        assert users() == []


def test_unknown_role_and_bad_email_are_refused(app, runner):
    bad_role = runner.invoke(
        args=["users", "create", "a@pbh.gov.br", "--role", "mayor", "--password-stdin"],
        input=GOOD_PASSWORD + "\n",
    )
    assert bad_role.exit_code == 2
    assert "Invalid value for '--role'" in bad_role.output
    bad_email = runner.invoke(
        args=["users", "create", "not-an-email", "--role", "admin", "--password-stdin"],
        input=GOOD_PASSWORD + "\n",
    )
    assert_clean_failure(bad_email, "Enter a valid e-mail address.")
    missing_role = runner.invoke(args=["users", "create", "a@pbh.gov.br"], input="")
    assert missing_role.exit_code == 2
    assert "Missing option '--role'" in missing_role.output
    with app.app_context():
        assert users() == []


def test_console_script_lists_the_project_and_flask_commands():
    env = {"OPDIGITAL_CONFIG": "development"}
    result = console_script("--help", env=env)
    assert result.returncode == 0, result.stderr
    commands = {
        line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()
    }
    assert {"demo", "users", "db", "run", "shell"} <= commands
    users_help = console_script("users", "create", "--help", env=env)
    assert users_help.returncode == 0, users_help.stderr
    assert "--password-stdin" in users_help.stdout
    assert "admin|coordinator|auditor" in users_help.stdout


def test_the_encarregado_account_is_created_from_the_command_line(app, runner):
    result = runner.invoke(
        args=["users", "create", "dpo@pbh.gov.br", "--role", "privacy_officer", "--password-stdin"],
        input=GOOD_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert [(u.email, u.role) for u in users()] == [("dpo@pbh.gov.br", "privacy_officer")]
