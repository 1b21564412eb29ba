"""A poll worker signs in on a shared device: their session is never remembered and ends after
`POLL_WORKER_IDLE_MINUTES` without a request (docs/security.md, "Poll workers").

The time of their last request is kept in the signed session cookie, set at sign-in (Flask-Login's
`user_logged_in` signal) and renewed on each request. A session without it, or older than the
limit, is signed out in this browser only (the account's other sessions stay), so a copy of an
old cookie is of no use either. Registered app-wide by the package: the rule holds on every page
a poll worker might open, not only theirs.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from opdigital.clock import now

LAST_SEEN = "polling.last_seen"


def idle_minutes() -> int:
    """`POLL_WORKER_IDLE_MINUTES` (15): long enough to serve a queue of voters, short enough
    that a device left signed in is closed before the next person is likely to find it."""
    return int(current_app.config["POLL_WORKER_IDLE_MINUTES"])


def start_the_idle_clock(sender, user, **extra) -> None:
    """At a poll worker's sign-in: a browser-session cookie, and the idle clock starts."""
    if getattr(user, "is_poll_worker", False):
        session.permanent = False
        session[LAST_SEEN] = now().timestamp()


def sign_out_when_idle():
    """Before every request of a signed-in poll worker: signed out (this browser only) when idle
    for longer than the limit; otherwise the clock starts again."""
    if not current_user.is_authenticated or not current_user.is_poll_worker:
        return None
    last_seen = session.get(LAST_SEEN)
    idle_for = now().timestamp() - last_seen if isinstance(last_seen, int | float) else None
    if idle_for is None or not 0 <= idle_for <= idle_minutes() * 60:
        end_here()
        flash(
            _(
                "You were signed out after %(minutes)d minutes without activity. Sign in again "
                "to go on.",
                minutes=idle_minutes(),
            ),
            "warning",
        )
        return redirect(url_for("accounts.login", next=url_for("polling.dashboard")), code=303)
    session.permanent = False
    session[LAST_SEEN] = now().timestamp()
    return None


def end_here() -> None:
    """Sign the poll worker out of this browser only: their account's session token is kept, so
    their other devices stay signed in. The session keeps nothing of theirs but the language."""
    logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
