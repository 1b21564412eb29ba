"""What /healthz checks: can this instance reach PostgreSQL and Redis?

It also warns (without failing) when PostgreSQL is set to write statements with their values
into its log for this app's connections: the cast is one statement carrying the voter key, the
receipt hash and the choices together, so such a log line would link a voter to a ballot.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import redis
import sqlalchemy as sa
from flask import current_app

from opdigital.extensions import db

log = logging.getLogger(__name__)


# A health check must answer fast: a hung dependency is reported as down, not waited for.
REDIS_TIMEOUT_SECONDS = 1.0


def database_status() -> str:
    """'ok' when a trivial query succeeds, else 'down'."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except (sa.exc.SQLAlchemyError, OSError) as e:
        log.warning("Health check: database unreachable: %s", e)
        db.session.rollback()
        return "down"
    return "ok"


def redis_status() -> str:
    """'ok' when Redis answers PING, 'down' when not, 'not_configured' without REDIS_URL."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not_configured"
    client = None
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        client.ping()
    except (redis.RedisError, OSError, ValueError) as e:
        log.warning("Health check: Redis unreachable: %s", e)
        return "down"
    finally:
        if client is not None:
            client.close()
    return "ok"


# --- PostgreSQL logging and ballot secrecy (docs/deploy.md) ----------------------------------

# log_min_messages levels from the most to the least verbose: an ERROR reaches the server log
# when log_min_messages is "error" or anything before it.
_MESSAGE_LEVELS = (
    "debug5",
    "debug4",
    "debug3",
    "debug2",
    "debug1",
    "info",
    "notice",
    "warning",
    "error",
    "log",
    "fatal",
    "panic",
)
# Read from pg_settings on the app's own connection: the values in force for its sessions (role
# and database overrides included, as SHOW reports them, in base units without a suffix). A
# module's settings are listed only while the module is loaded in the session: placeholders
# left by ALTER ROLE ... SET auto_explain.* without the module are not, which is exactly what
# tells whether auto_explain is at work.
_LOGGING_SETTINGS = sa.text("SELECT name, setting FROM pg_settings WHERE name IN :names")
_LOGGING_SETTING_NAMES = (
    "log_statement",
    "log_min_duration_statement",
    "log_min_duration_sample",
    "log_statement_sample_rate",
    "log_transaction_sample_rate",
    "log_parameter_max_length",
    "log_parameter_max_length_on_error",
    "log_min_messages",
    "debug_print_plan",
    "auto_explain.log_min_duration",
    "auto_explain.sample_rate",
)


@dataclass(frozen=True)
class LoggingRisk:
    """A PostgreSQL setting, as in force for the app's role, that can log a whole vote."""

    setting: str
    value: str
    why: str


def _number(settings: Mapping[str, str], name: str, default: float) -> float:
    """A numeric setting; absent (an older PostgreSQL, a module not loaded): its default."""
    try:
        return float(settings.get(name, default))
    except ValueError:  # pg_settings always gives these as plain numbers
        return default


def logging_risks(settings: Mapping[str, str]) -> list[LoggingRisk]:
    """Which of these settings (name -> pg_settings value) let one log line hold a vote.

    The cast's values travel as bind parameters, so the statement text itself holds none: a
    line holds the vote when a statement is logged together with its parameters (or with a plan
    made for them), or when a failing cast's parameters are added to its error. So: statements
    logged by log_statement ('mod' or 'all'), by duration (log_min_duration_statement >= 0), by
    sampling, or by auto_explain; log_parameter_max_length, which adds the parameters to those
    lines, only when statements are logged; log_parameter_max_length_on_error when errors reach
    the log (a duplicate vote fails with its parameters). log_duration (no text) and
    log_min_error_statement (the failing statement's text, placeholders only) are harmless.
    """
    risks: list[LoggingRisk] = []

    def risk(name: str, why: str) -> None:
        # Absent: a server too old to have the setting, which then behaves as its default.
        risks.append(LoggingRisk(name, settings.get(name, "default"), why))

    if settings.get("log_statement") in ("mod", "all"):
        risk("log_statement", "every cast statement is written to the server log")
    if _number(settings, "log_min_duration_statement", -1) >= 0:
        risk("log_min_duration_statement", "cast statements are written to the server log")
    if (
        _number(settings, "log_min_duration_sample", -1) >= 0
        and _number(settings, "log_statement_sample_rate", 1) > 0
    ):
        risk("log_min_duration_sample", "a sample of cast statements is written to the log")
    if _number(settings, "log_transaction_sample_rate", 0) > 0:
        risk("log_transaction_sample_rate", "a sample of cast statements is written to the log")
    statements_logged = bool(risks)
    if statements_logged and _number(settings, "log_parameter_max_length", -1) != 0:
        risk("log_parameter_max_length", "logged statements carry the cast's values")
    level = settings.get("log_min_messages", "warning")
    errors_logged = level not in _MESSAGE_LEVELS or _MESSAGE_LEVELS.index(
        level
    ) <= _MESSAGE_LEVELS.index("error")
    if errors_logged and _number(settings, "log_parameter_max_length_on_error", 0) != 0:
        risk(
            "log_parameter_max_length_on_error",
            "a refused cast (already voted) is logged with its values",
        )
    if (
        "auto_explain.log_min_duration" in settings
        and _number(settings, "auto_explain.log_min_duration", -1) >= 0
        and _number(settings, "auto_explain.sample_rate", 1) > 0
    ):
        risk(
            "auto_explain.log_min_duration",
            "cast plans, made for the cast's values, are written to the log",
        )
    if settings.get("debug_print_plan") == "on":
        risk("debug_print_plan", "cast plans, made for the cast's values, are written to the log")
    return risks


def read_logging_risks(connection) -> list[LoggingRisk]:
    """The risky logging settings in force for `connection` (PostgreSQL only)."""
    statement = _LOGGING_SETTINGS.bindparams(
        sa.bindparam("names", list(_LOGGING_SETTING_NAMES), expanding=True)
    )
    return logging_risks(dict(connection.execute(statement).all()))


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def logging_warnings() -> list[dict]:
    """For /healthz: each risky setting by name and value; none when it cannot be read."""
    if not _on_postgresql():
        return []
    try:
        risks = read_logging_risks(db.session)
    except (sa.exc.SQLAlchemyError, OSError) as e:
        log.warning("Health check: PostgreSQL logging settings unreadable: %s", e)
        db.session.rollback()
        return []
    return [{"setting": r.setting, "value": r.value} for r in risks]


def warn_about_database_logging() -> list[LoggingRisk]:
    """Log a WARNING for each risky setting, on a connection of its own (once per process).

    Never fails: a database that cannot be reached now is /healthz's business.
    """
    try:
        with db.engine.connect() as connection:
            risks = read_logging_risks(connection)
    except (sa.exc.SQLAlchemyError, OSError) as e:
        log.warning("Could not check PostgreSQL's logging settings for ballot secrecy: %s", e)
        return []
    for r in risks:
        log.warning(
            "PostgreSQL setting %s = %s for this app's connections: %s, so one server log line "
            "can link a voter to a ballot. Turn it off for the app's role (docs/deploy.md, "
            "'PostgreSQL logging and ballot secrecy').",
            r.setting,
            r.value,
            r.why,
        )
    return risks
