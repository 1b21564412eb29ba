"""Small helpers shared by views and by the direct cast endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, g, request

from opdigital.errors import NotFound

# HEAD is a GET without the body (RFC 9110): a view that shows a form on GET must treat HEAD
# the same way, not as a submission.
READ_METHODS = frozenset({"GET", "HEAD"})

# Sent with every response (a view may set its own value first).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def never_cache(response):
    """An `after_request` hook for the blueprints of shared devices (the voting flow, kiosks, poll
    workers, paper ballots): nothing of a page may come back from the browser's cache or its
    back button to the next person at the device."""
    response.headers["Cache-Control"] = "no-store"
    return response


def is_read() -> bool:
    """True when the request only reads (GET or HEAD), False for a submission."""
    return request.method in READ_METHODS


Found = TypeVar("Found")


def page_or_404(load: Callable[..., Found], *args) -> Found:
    """`load(*args)` for a page: the domain's NotFound becomes the plain "page not found".

    The shared queries (`cycles.queries`, `regions.queries`...) say what is missing, as the API
    tells its clients; a page answers every missing part of its address alike.
    """
    try:
        return load(*args)
    except NotFound:
        pass
    abort(404)


def security_headers(config) -> list[tuple[str, str]]:
    """The security headers of every response; HSTS only where cookies are Secure (HTTPS)."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ]
    if config.get("SESSION_COOKIE_SECURE"):
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


def forget_previous_request() -> None:
    """Start a request with no cached language, user, client or attempt counts.

    Flask-Babel, Flask-Login and the rate limits cache these on `g`, which lives as long as
    the application context. A request normally gets its own context, but one pushed around
    several requests (a test, a script, a streamed response) would otherwise keep the previous
    visitor's.
    """
    from flask_babel import refresh

    refresh()
    for name in ("_login_user", "vote_client", "attempt_counts"):
        g.pop(name, None)
