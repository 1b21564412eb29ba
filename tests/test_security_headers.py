"""Security headers on every response, and the client address behind trusted proxies."""

from __future__ import annotations

import pytest
from flask import request


@pytest.mark.parametrize("url", ["/", "/login", "/api/v1/cycles", "/nao-existe"])
def test_every_response_carries_the_security_headers(client, url):
    headers = client.get(url).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    # Images from this site, data: URLs and the map tile server; nothing else from elsewhere.
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert all(
        value == "'self'"
        for name, value in directives.items()
        if name not in ("img-src", "frame-ancestors")
    ), policy


@pytest.mark.parametrize(
    ("tile_url", "img_src"),
    [
        ("http://127.0.0.1:8123/{z}/{x}/{y}.png", "'self' data: http://127.0.0.1:8123"),
        (
            "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
            "'self' data: https://*.tiles.example.org",
        ),
        ("/tiles/{z}/{x}/{y}.png", "'self' data:"),
        ("", "'self' data:"),
    ],
)
def test_images_may_come_from_the_configured_tile_server_only(client, settings, tile_url, img_src):
    settings(MAP_TILE_URL=tile_url)
    policy = client.get("/").headers["Content-Security-Policy"]
    assert f"img-src {img_src};" in policy


@pytest.mark.parametrize(
    "tile_url",
    [
        "javascript:alert(1)",
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org; script-src *;/{z}",
        "https://user@tiles.example.org/{z}/{x}/{y}.png",
        "tiles/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_server_the_policy_cannot_name_stops_the_app(make_app, database_url, tile_url):
    with pytest.raises(RuntimeError, match="MAP_TILE_URL"):
        make_app("testing", SQLALCHEMY_DATABASE_URI=database_url, MAP_TILE_URL=tile_url)


def test_session_cookie_is_http_only_and_same_site(client):
    client.get("/lang/en")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def _client_address(app, headers: dict) -> str:
    @app.get("/_whoami")
    def whoami():
        return request.remote_addr or ""

    return app.test_client().get("/_whoami", headers=headers).get_data(as_text=True)


def test_forwarded_address_is_ignored_without_trusted_proxies(make_app, database_url):
    app = make_app("testing", SQLALCHEMY_DATABASE_URI=database_url, PROXY_COUNT=0)
    assert _client_address(app, {"X-Forwarded-For": "203.0.113.9"}) == "127.0.0.1"


def test_forwarded_address_is_used_behind_one_trusted_proxy(make_app, database_url):
    app = make_app("testing", SQLALCHEMY_DATABASE_URI=database_url, PROXY_COUNT=1)
    # A client may forge the leftmost entries; only the one our proxy appended is trusted.
    forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    assert _client_address(app, forwarded) == "203.0.113.9"
