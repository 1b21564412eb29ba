"""`next=` targets with control characters: the safe default, never a 500 (sign-in, language)."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import quote

import pytest

from opdigital.auth import is_safe_local_url
from tests.support import factories
from tests.support.client import post_form

# Each kind of control character in the decoded `next` value: sent percent-encoded (%0d%0a,
# as a link carries it) or raw in the query string. NUL never reaches these views: the app-wide
# guard (factory.py) answers 400 first (tests/test_input_guards.py); it is refused here too.
# ("/<tab>/evil.example" and "//evil" were refused before: urlsplit drops tabs and newlines.)
HOSTILE = [
    "/\r\nLocation: https://evil.example",  # CR LF: a header split
    "/\rx",
    "/\nx",
    "/\tevil",
    "/\x7f",
    "/\x1b[31m",  # ESC, another C0 character
    "/\x85x",  # NEL, a C1 control character
    "/\u2028x",  # line separator
    "/\u2029x",  # paragraph separator
    "/ok\r\n",  # trailing
    "/\r\n\r\n<script>",  # a body after the headers
]
NUL = "/\x00x"


@pytest.mark.parametrize("target", [*HOSTILE, NUL])
def test_control_characters_are_not_safe_local_urls(target):
    assert is_safe_local_url(target) is False


@pytest.fixture
def staff(app):
    with app.app_context():
        user = factories.user("coordinator")
        return SimpleNamespace(id=user.id, email=user.email)


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_sends_hostile_targets_home(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("encode", [True, False], ids=["percent-encoded", "raw"])
@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_with_the_target_in_the_url(client, target, encode):
    # Written into the query string by hand: "%0d%0a" as a link holds it, or the characters
    # themselves, as a server passes on bytes a front end let through (QUERY_STRING as is).
    query = "next=" + (quote(target, safe="/") if encode else target)
    response = client.get("/lang/en", query_string=query)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_page_drops_hostile_targets(client, target):
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 200
    assert '<form method="post" action="/login" novalidate>' in response.get_data(as_text=True)


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_with_hostile_target_goes_to_the_staff_home(client, staff, target):
    response = post_form(
        client,
        "/login",
        {"email": staff.email, "password": factories.PASSWORD},
        query_string={"next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
