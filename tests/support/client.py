"""Helpers for driving the app like a browser would (or a burst of browsers at once)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """GET `url` and return the CSRF token of its first form."""
    response = client.get(url)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)


def english_client(app):
    """A browser that reads English (the msgids), so tests can match the text."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def login_as(client, user) -> None:
    """Sign `user` in without the login form (the form itself is tested in test_accounts)."""
    from opdigital.accounts.models import User
    from opdigital.extensions import db

    # The cookie names the account's current session token too (User.get_id).
    with client.application.app_context():
        session_id = db.session.get(User, user.id).get_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True


def assert_access_by_role(app, url: str, staff: dict, expected: dict[str, int]) -> None:
    """An anonymous GET of `url` is sent to sign in; the account `staff[role]` gets the status
    `expected[role]`, for each role."""
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    for role, status in expected.items():
        client = app.test_client()
        login_as(client, staff[role])
        assert client.get(url).status_code == status, role


def post_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """POST `data` to `url` with the CSRF token taken from `form_url` (default: `url`)."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def at_once(count: int, ready: Callable[[], Any], go: Callable[[Any], Any]) -> list:
    """Run `ready()` in `count` threads, then release them together to run `go` on what their
    `ready()` returned: a burst of requests sent at the same moment. What each `go` returned,
    in the order they finished (a thread that failed adds nothing)."""
    start = threading.Barrier(count, timeout=30)
    results = []

    def run() -> None:
        prepared = ready()
        start.wait()
        results.append(go(prepared))

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
