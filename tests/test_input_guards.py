"""Input the database cannot hold is refused with a 4xx everywhere, never a 500."""

from __future__ import annotations

import pytest

from tests.support import factories
from tests.support.client import login_as, post_form


@pytest.mark.parametrize(
    "url",
    [
        "/ciclos/abc%00def",
        "/propostas/OPD%00",
        "/api/v1/cycles/x%00y",
        "/api/v1/cycles/x/schedule?region=a%00b",
        "/?lang=pt%00",
    ],
)
def test_nul_bytes_are_a_bad_request(client, url):
    response = client.get(url)
    assert response.status_code == 400


def test_nul_bytes_in_a_form_are_a_bad_request(client):
    response = post_form(client, "/login", {"email": "a\x00@b.c", "password": "x"})
    assert response.status_code == 400
    assert "caractere que não é permitido" in response.get_data(as_text=True)


def test_ids_beyond_the_database_range_are_not_found(app, client):
    with app.app_context():
        coordinator = factories.user("coordinator")
        login_as(client, coordinator)
    assert client.get(f"/staff/phases/{2**31}/edit").status_code == 404
    assert client.get(f"/staff/phases/{2**40}/edit").status_code == 404
