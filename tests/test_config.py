"""Settings: production refuses to start without its secrets; development runs with none.

The settings classes read the environment when `opdigital.settings` is imported, so each test
sets the environment and reloads the module; the fixture restores both the environment and the
module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opdigital import create_app, settings
from tests.support.production import SECRET, full_production

ROOT = Path(__file__).resolve().parent.parent


def test_production_accepts_a_full_configuration(environment, make_app):
    settings = environment(**full_production())
    production = settings.load_config("production")
    assert production is settings.Production
    app = make_app("production")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://op:secret@db.internal:5432/opdigital"
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == SECRET
    assert not app.debug and not app.testing


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": settings.DEFAULT_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY"),
        ({"VOTER_KEY_PEPPER": None}, "VOTER_KEY_PEPPER"),
        ({"VOTER_KEY_PEPPER": settings.DEFAULT_PEPPER}, "VOTER_KEY_PEPPER"),
        ({"VOTER_KEY_PEPPER": "p" * 31}, "VOTER_KEY_PEPPER"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        # Links in e-mails must reach the real site, over HTTPS.
        ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "http://op.prefeitura.example"}, "PUBLIC_BASE_URL"),
        ({"MAIL_DEFAULT_SENDER": None}, "MAIL_DEFAULT_SENDER"),
        ({"MAIL_DEFAULT_SENDER": "OP <nao-responda@localhost>"}, "MAIL_DEFAULT_SENDER"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(environment, changes, complaint):
    settings = environment(**full_production(**changes))
    with pytest.raises(RuntimeError, match=complaint):
        settings.load_config("production")
    with pytest.raises(RuntimeError, match="Refusing to start in production"):
        create_app("production")


def test_each_settings_class_knows_its_name(environment):
    settings = environment(**full_production())
    for name in ("development", "testing", "production"):
        assert name == settings.load_config(name).CONFIG_NAME


def test_production_chosen_from_the_environment_is_checked_too(environment):
    environment(OPDIGITAL_CONFIG="production")
    with pytest.raises(RuntimeError) as refused:
        create_app()
    for name in ("SECRET_KEY", "VOTER_KEY_PEPPER", "DATABASE_URL", "REDIS_URL"):
        assert name in str(refused.value)


def test_development_runs_on_sqlite_and_in_process_rate_limits(environment, make_app):
    settings = environment()
    development = settings.load_config()
    assert development is settings.Development
    sqlite_file = ROOT / "instance" / "opdigital.sqlite3"
    database_uri = development.SQLALCHEMY_DATABASE_URI
    assert database_uri == f"sqlite:///{sqlite_file}"
    assert development.RATELIMIT_STORAGE_URI == "memory://"
    app = make_app("development")
    assert Path(app.instance_path) == sqlite_file.parent
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{sqlite_file}"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_development_uses_redis_for_rate_limits_when_given(environment):
    settings = environment(REDIS_URL="redis://cache:6379/1")
    assert settings.Development.RATELIMIT_STORAGE_URI == "redis://cache:6379/1"
    settings = environment(REDIS_URL="redis://cache:6379/1", RATELIMIT_STORAGE_URI="memory://")
    assert settings.Development.RATELIMIT_STORAGE_URI == "memory://"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
        (None, None),
    ],
)
def test_postgres_urls_use_psycopg_3(url, expected):
    assert settings._sqlalchemy_url(url) == expected


def test_database_url_from_the_environment_is_converted(environment):
    settings = environment(DATABASE_URL="postgres://op@db/opdigital")
    assert settings.Development.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://op@db/opdigital"


def test_unknown_configuration_name_is_refused():
    with pytest.raises(RuntimeError, match="Unknown configuration 'staging'"):
        settings.load_config("staging")
