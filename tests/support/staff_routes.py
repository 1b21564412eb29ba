"""Walking every staff route, for the roles that may open only a few of them (poll workers,
the encarregado): each test says which answers count as a refusal."""

from __future__ import annotations

from collections.abc import Iterator

from flask import url_for
from werkzeug.routing import IntegerConverter

from tests.support.client import english_client
from tests.support.coordination import token


def dummy_url(app, rule) -> str:
    """`rule`'s URL with made-up values: 1 for an integer, "x" for anything else."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if isinstance(converter, IntegerConverter) else "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _send(app, client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token(app, client)})


def staff_answers(app, browser, allowed: tuple[str, ...]) -> Iterator[tuple[str, str, object]]:
    """(method, endpoint, what `browser` got) for every staff route outside the endpoints
    starting with `allowed`: a route is a staff one when an anonymous visitor is sent to sign
    in (public routes are left out)."""
    anonymous = english_client(app)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(allowed) or rule.endpoint == "static":
            continue
        url = dummy_url(app, rule)
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            answer = _send(app, anonymous, method, url)
            if not (answer.status_code == 302 and "/login" in answer.headers["Location"]):
                continue  # not a staff screen: open to the public
            yield method, rule.endpoint, _send(app, browser, method, url)


def refused_everywhere_but(app, browser, allowed, refused=None) -> tuple[list, set[str]]:
    """Walk every staff route outside `allowed` as `browser`: the answers that were not a
    refusal (by `refused`, default a 403), and the endpoints walked."""
    refused = refused or (lambda got: got.status_code == 403)
    wrong, endpoints = [], set()
    for method, endpoint, got in staff_answers(app, browser, allowed):
        endpoints.add(endpoint)
        if not refused(got):
            wrong.append((method, endpoint, got.status_code))
    return wrong, endpoints
