"""Domain errors raised by services, and how the web layer shows every error.

Services raise `DomainError` subclasses; views catch them to show a message, and anything that
escapes becomes a clean 4xx page (HTML) or `{"error": {"code", "message"}}` (API), never a 500.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A refused operation, with a stable code and a message fit for the user."""

    status = 400
    code = "bad_request"

    def __init__(self, message, *, code: str | None = None, status: int | None = None):
        # `message` is usually a lazy translation, rendered in the reader's language.
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class NotFound(DomainError):
    status = 404
    code = "not_found"


class ValidationFailed(DomainError):
    status = 422
    code = "invalid"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class BallotLocked(Conflict):
    code = "ballot_frozen"


class PhaseClosed(DomainError):
    status = 403
    code = "phase_closed"


class NotEligible(DomainError):
    """Not in the roll, wrong birth date, or outside the cycle's rules: one answer for all."""

    status = 403
    code = "not_eligible"


class VotingClosed(DomainError):
    status = 403
    code = "voting_closed"


class AlreadyVoted(Conflict):
    code = "already_voted"


class InvalidBallot(ValidationFailed):
    code = "invalid_ballot"


class RateLimited(DomainError):
    """Too many attempts from this client or with these credentials (429, with Retry-After)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, code: str, message) -> tuple:
    message = str(message)  # services give lazily translated text: render it now
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("errors/error.html", status=status, message=message), status


# Error codes for HTTP errors in the JSON API (stable, documented in the OpenAPI document).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def _http_message(error: HTTPException) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("You need to sign in to see this page."),
        403: _("You are not allowed to do this."),
        404: _("We could not find this page."),
        405: _("This method is not allowed here."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Please wait and try again."),
    }
    return messages.get(error.code or 500, error.description or _("Something went wrong."))


def retry_after_seconds() -> int:
    """Seconds until the breached rate limit's window resets (read only when one is breached)."""
    from opdigital.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return 60
    reset_time, _remaining = current.window
    return max(1, math.ceil(reset_time - time.time()))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        response = app.make_response(error_response(error.status, error.code, error.message))
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        response = app.make_response(
            error_response(status, _HTTP_CODES.get(status, "error"), _http_message(error))
        )
        if status == 429:
            response.headers["Retry-After"] = str(retry_after_seconds())
        if status == 405 and getattr(error, "valid_methods", None):
            # RFC 9110: a 405 must say which methods are allowed.
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(DataError)
    def handle_data_error(error: DataError):
        # Last line of defence: a value the database refuses (out of range, bad encoding) came
        # from the request, so it is the client's error, and the transaction must not linger.
        from opdigital.extensions import db

        db.session.rollback()
        log.warning("Database refused a value on %s %s: %s", request.method, request.path, error)
        return error_response(400, "bad_request", _("Some of the data sent is not valid."))

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", _("Something went wrong on our side."))

    @app.errorhandler(OperationalError)
    def handle_database_unavailable(error: OperationalError):
        return _database_unavailable(error)

    @app.errorhandler(DBAPIError)
    def handle_lost_connection(error: DBAPIError):
        if not error.connection_invalidated:
            return handle_unexpected(error)
        return _database_unavailable(error)


# Seconds a client is asked to wait when the database cannot be reached.
DATABASE_RETRY_AFTER = 5


def _database_unavailable(error: Exception):
    """The database is down or the connection was lost: 503, try again shortly.

    Nothing was acknowledged: a vote whose statement did not come back has no receipt, and
    trying again is safe (the database answers "already voted" if it did go through). The
    connection pool is invalidated by SQLAlchemy, so the app recovers by itself once the
    database is back.
    """
    from opdigital.extensions import db

    # The connection is gone; the session is reset at teardown anyway.
    with contextlib.suppress(Exception):
        db.session.rollback()
    log.warning(
        "Database unavailable on %s %s: %s", request.method, request.path, type(error).__name__
    )
    response = current_app.make_response(
        error_response(
            503,
            "unavailable",
            _("The service is temporarily unavailable. Please try again in a few seconds."),
        )
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
