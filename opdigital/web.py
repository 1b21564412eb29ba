"""Small helpers shared by views and by the direct cast endpoint."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar
from urllib.parse import urlsplit

from flask import abort, g, request

from opdigital.errors import NotFound

# HEAD is a GET without the body (RFC 9110): a view that shows a form on GET must treat HEAD
# the same way, not as a submission.
READ_METHODS = frozenset({"GET", "HEAD"})

# Sent with every response (a view may set its own value first). `{tiles}` is the origin of the
# map tile server (MAP_TILE_URL): the only other origin anything may come from, and images only.
_POLICY = (
    "default-src 'self'; img-src 'self' data:{tiles}; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


# A host (name or address) with an optional port: nothing that could end or extend the policy.
_HOST = re.compile(r"(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def tile_origin(tile_url: str | None) -> str | None:
    """The origin of a Leaflet tile URL template as a CSP source, e.g.
    "https://tile.openstreetmap.org"; None when there is none to allow (no tile server, or tiles
    served by this site). A `{s}` subdomain in the host becomes a wildcard ("https://*.tile...").

    ValueError for a template that is not an http(s) address or a path on this site.
    """
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if not parts.scheme and not parts.netloc and tile_url.startswith("/"):
        return None  # tiles from this site: 'self' covers them
    host = parts.netloc.replace("{s}", "*")
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host):
        raise ValueError(
            f"MAP_TILE_URL must be an http(s) URL template or a path, not {tile_url!r}"
        )
    return f"{parts.scheme}://{host.lower()}"


@lru_cache(maxsize=8)
def content_security_policy(tile_url: str | None) -> str:
    """The Content-Security-Policy of every answer, for the configured tile server."""
    origin = tile_origin(tile_url)
    return _POLICY.format(tiles=f" {origin}" if origin else "")


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
        ("Content-Security-Policy", content_security_policy(config.get("MAP_TILE_URL"))),
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
