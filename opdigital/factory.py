"""The steps `create_app` runs, in order. Each is small and does one thing."""

from __future__ import annotations

import hmac
import logging
from pathlib import Path

from flask import Flask, request, session
from flask_babel import format_currency, format_date, format_datetime

from opdigital.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from opdigital.resources import resource_dir


def configure_logging(app: Flask) -> None:
    """Log level and name with every line; does nothing where logging is already set up."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def serve_casts_directly(app: Flask) -> None:
    """Casts through the API skip Flask's per-request machinery (see api/direct_cast.py)."""
    from opdigital.api.direct_cast import DirectCast

    app.wsgi_app = DirectCast(app, app.wsgi_app)


def trust_proxies(app: Flask) -> None:
    """Behind a load balancer, take the client's IP and host from its X-Forwarded-* headers."""
    count = app.config.get("PROXY_COUNT", 0)
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def register_extensions(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        raise RuntimeError("DATABASE_URL is not set")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        # `make run` keeps its database in the instance folder, which a fresh clone lacks.
        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A hung database host must fail a request (and /healthz) in seconds, not minutes.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        options.setdefault("connect_args", {"connect_timeout": 3})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    # Wherever the command runs from: the migrations ship inside the package (resources.py).
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    # SMTP in every environment, tests included (Flask-Mailman would pick its in-memory backend
    # under TESTING): the tests send to a real local server (tests/support/smtp_sink.py).
    app.config.setdefault("MAIL_BACKEND", "smtp")
    mail.init_app(app)


def reset_request_caches(app: Flask) -> None:
    """Start every request with no cached language, user, client or attempt counts."""
    from opdigital.web import forget_previous_request

    app.before_request(forget_previous_request)


def check_database_logging(app: Flask) -> None:
    """Warn once per process if PostgreSQL would log votes for this app's role (health.py).

    Not while the app is built: `create_app` makes no connection (docs/rationale.md, "The app
    factory"), and the `opdigital` commands that never touch the database must not wait for it.
    The check runs at the first request a process serves through Flask (in practice the
    balancer's /healthz a few seconds after a worker starts), on a connection of its own, and
    never fails that request. /healthz reports the same settings on every call.
    """
    if not app.config.get("CHECK_DATABASE_LOGGING"):
        return
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # SQLite (`make run`) has no server log
    from opdigital.health.checks import warn_about_database_logging

    pending = [True]

    @app.before_request
    def check_database_logging_once() -> None:
        if pending:
            pending.clear()
            warn_about_database_logging()


def select_locale() -> str:
    """Portuguese unless the visitor chose another language (session or ?lang=)."""
    from flask import current_app, has_request_context

    if not has_request_context():  # the `opdigital` command, like its help, speaks English
        return current_app.config["CLI_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or session.get("lang")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def register_models(app: Flask) -> None:
    """Import every model so metadata (and Alembic autogenerate) sees all tables."""
    from opdigital import models  # noqa: F401
    from opdigital.accounts.models import User

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        """The account named by a session cookie, while the cookie's session token is current.

        `User.get_id` puts "<id>:<token>" in the cookie; signing out, a new password, a role
        change or deactivation replace the token, which ends every session made before.
        """
        user_id, _, token = session_id.partition(":")
        if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 9 and token):
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active:
            return None
        if not hmac.compare_digest(user.session_token.encode(), token.encode()):
            return None
        return user


def register_blueprints(app: Flask) -> None:
    from opdigital.accounts.views import bp as accounts_bp
    from opdigital.api import bp as api_bp
    from opdigital.audit.views import bp as audit_bp
    from opdigital.board.views import bp as board_bp
    from opdigital.coordination import bp as coordination_bp
    from opdigital.geo.views import bp as maps_bp
    from opdigital.health import bp as health_bp
    from opdigital.kiosk.views import bp as kiosk_bp
    from opdigital.mail.views import bp as outbox_bp
    from opdigital.paper.views import bp as paper_bp
    from opdigital.phone.views import bp as phone_bp
    from opdigital.polling.views import bp as polling_bp
    from opdigital.public import bp as public_bp
    from opdigital.subject_requests.views import bp as subject_requests_bp
    from opdigital.tally.views import bp as results_bp
    from opdigital.voting.views import bp as voting_bp
    from opdigital.works.views import bp as works_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(coordination_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(voting_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(paper_bp)
    app.register_blueprint(polling_bp)
    app.register_blueprint(outbox_bp)
    app.register_blueprint(subject_requests_bp)
    app.register_blueprint(works_bp)
    app.register_blueprint(maps_bp)
    app.register_blueprint(phone_bp)
    csrf.exempt(phone_bp)  # provider webhooks: the request signature stands in for CSRF
    csrf.exempt(api_bp)  # JSON API: no cookie is trusted there (a ballot carries its credentials)


def guard_inputs(app: Flask) -> None:
    """Refuse input the database cannot hold, before any view sees it.

    PostgreSQL integers are 32-bit and its text cannot contain NUL: such values in a URL or a
    form would make a query fail (a 500) instead of simply finding nothing or being refused.
    """
    from flask_babel import gettext
    from werkzeug.routing import IntegerConverter

    from opdigital.errors import DomainError

    class DatabaseInteger(IntegerConverter):
        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseInteger

    @app.before_request
    def refuse_nul_bytes():
        values = [request.path, *request.args.values()]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values.extend(request.form.values())
        if any("\x00" in value for value in values):
            raise DomainError(
                gettext("The text sent contains a character that is not allowed."),
                code="invalid_character",
            )


def register_error_handlers(app: Flask) -> None:
    from opdigital.errors import register_error_handlers as register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from opdigital import formatting
    from opdigital.mail.links import external_url

    app.jinja_env.filters["money"] = formatting.money
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["format_currency"] = format_currency
    # E-mail templates link to the site from PUBLIC_BASE_URL, outside any request too.
    app.jinja_env.globals["external_url"] = external_url

    @app.context_processor
    def inject_globals() -> dict:
        from flask_babel import get_locale

        return {
            "languages": app.config["LANGUAGES"],
            "current_locale": str(get_locale()),
            "labels": formatting.labels(),
        }


def add_security_headers(app: Flask) -> None:
    from opdigital.web import content_security_policy, security_headers

    # A MAP_TILE_URL the policy cannot name stops the app here, not at its first answer.
    try:
        content_security_policy(app.config.get("MAP_TILE_URL"))
    except ValueError as error:
        raise RuntimeError(str(error)) from None

    @app.after_request
    def add_headers(response):
        for name, value in security_headers(app.config):
            response.headers.setdefault(name, value)
        return response


def register_commands(app: Flask) -> None:
    from opdigital.cli import register_commands as register

    register(app)


STEPS = [
    configure_logging,
    serve_casts_directly,  # before trust_proxies: the proxy fix must wrap it too
    trust_proxies,
    register_extensions,
    register_models,
    reset_request_caches,
    check_database_logging,
    guard_inputs,
    register_blueprints,
    register_error_handlers,
    register_template_helpers,
    add_security_headers,
    register_commands,
]
