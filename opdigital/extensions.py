"""Bare extension objects, bound to the app in `create_app` (no app is created here)."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mailman import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from opdigital.networks import client_group

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Migrations:
    """Flask-Migrate, bound when migrations are first used (`opdigital db ...`, the tests'
    `flask_migrate.upgrade()`, migrations/env.py), not when the app is built: importing it
    imports Alembic, 0.2 s of every worker's and every command's start. `init_app` keeps the
    options; the first attribute read from `app.extensions["migrate"]` binds Flask-Migrate
    with them, which puts its own object there."""

    def init_app(self, app, db, **options) -> None:
        app.extensions["migrate"] = _MigrateOnFirstUse(app, db, options)


class _MigrateOnFirstUse:
    def __init__(self, app, db, options: dict) -> None:
        self._app, self._db, self._options = app, db, options

    def __getattr__(self, name: str):
        from flask_migrate import Migrate

        Migrate().init_app(self._app, self._db, **self._options)
        return getattr(self._app.extensions["migrate"], name)


db = SQLAlchemy(model_class=Model)
migrate = Migrations()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Outgoing mail: only the outbox's sender (opdigital/mail/sender.py) opens SMTP connections.
mail = Mail()
# Per-address limits count an IPv6 client by its network (opdigital/networks.py).
limiter = Limiter(key_func=client_group)
