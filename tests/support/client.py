"""Helpers for driving the app like a browser would."""

from __future__ import annotations

import re

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """GET `url` and return the CSRF token of its first form."""
    response = client.get(url)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)


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


def post_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """POST `data` to `url` with the CSRF token taken from `form_url` (default: `url`)."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)
