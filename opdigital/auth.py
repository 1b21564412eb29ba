"""Access control for staff pages: sign-in required, then a role check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user, login_required

from opdigital.text_safety import has_control_characters


def roles_required(*roles: str) -> Callable:
    """Anonymous visitors go to the sign-in page (302); signed-in staff without the role get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_safe_local_url(target: str | None) -> bool:
    """True for a path on this site ("/x"), false for anything that could leave it.

    Control characters are refused outright: CR and LF would split the Location header (a 500
    when Werkzeug refuses it), and browsers drop tabs and newlines from URLs, so "/<tab>/evil"
    would become "//evil", another site.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or has_control_characters(target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
