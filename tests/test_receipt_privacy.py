"""Receipt codes stay out of URLs (issue 10, point 6).

A receipt code shows the voter's choices. Access logs (gunicorn's, nginx's `combined`) write
every request line, query string included, beside the client address, the time and the Referer:
a code in a URL would sit there next to who looked it up and when. So a voter votes, follows
the receipt's QR code, looks the receipt up with the board's form and with the API, each exactly
as the page or the OpenAPI document says to; and no request line, Location or other answer
header of the whole flow holds the code. Requests are recorded by Flask's signals, as the server
sees them.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import request, request_finished, request_started

from opdigital.voting.receipts import normalise_receipt
from opdigital.voting.views.qr import qr_svg, receipt_lookup_url
from tests.support.api import SPEC
from tests.support.voting_web import (
    RECEIPT,
    build_world,
    english_client,
    region_field,
    text,
    url,
    vote,
)


class Forms(HTMLParser):
    """Each form of a page: its method, action and the fields a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "id": attributes.get("id"),
                    "method": (attributes.get("method") or "get").lower(),
                    "action": attributes.get("action") or "",
                    "fields": {},
                }
            )
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""


def lookup_form(response) -> dict:
    parser = Forms()
    parser.feed(text(response))
    (form,) = [f for f in parser.forms if "codigo" in f["fields"]]
    return form


def submit(client, form: dict, code: str):
    """Send `form` with the code typed in, as a browser sends a form of that method."""
    fields = form["fields"] | {"codigo": code}
    if form["method"] == "post":
        return client.post(form["action"], data=fields, follow_redirects=True)
    return client.get(form["action"], query_string=fields, follow_redirects=True)


def documented_lookup(client, slug: str, code: str):
    """The API's receipt lookup, called as the OpenAPI document describes it."""
    for template, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            if operation.get("operationId") == "lookUpReceipt":
                path = template.replace("{slug}", slug).replace("{code}", code)
                body = {"json": {"receipt": code}} if "requestBody" in operation else {}
                return client.open(path, method=method.upper(), **body)
    raise AssertionError("the document has no lookUpReceipt operation")


class AccessLog:
    """What access logs keep of each request, and every header of each answer."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.answer_headers: list[str] = []

    def started(self, sender, **extra) -> None:
        environ = request.environ
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        # gunicorn's default format: %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"
        self.lines.append(
            f'{request.remote_addr} - - [-] "{request.method} {raw} '
            f'{environ.get("SERVER_PROTOCOL")}" "{request.referrer or "-"}" "-"'
        )
        self.lines += [request.full_path, request.url]

    def finished(self, sender, response, **extra) -> None:
        self.answer_headers += [f"{name}: {value}" for name, value in response.headers.items()]

    def holding(self, code: str) -> list[str]:
        plain = normalise_receipt(code)
        kept = self.lines + self.answer_headers
        return [line for line in kept if plain in normalise_receipt(line)]


@pytest.fixture
def access_log(app):
    log = AccessLog()
    with (
        request_started.connected_to(log.started, app),
        request_finished.connected_to(log.finished, app),
    ):
        yield log


@pytest.fixture
def voted(app, access_log):
    """A citizen has voted on the web and holds the receipt page: (world, browser, page, code)."""
    world = build_world(app)
    browser = english_client(app)
    choices = {region_field(r): str(world.proposals[i][0]) for i, r in enumerate(world.regions)}
    assert vote(browser, world, world.voters[0], choices).status_code == 303
    receipt = browser.get(url(world, "comprovante"))
    return world, browser, receipt, RECEIPT.search(text(receipt)).group(0)


def test_the_qr_code_sends_no_code_to_the_server(app, access_log, voted):
    world, browser, receipt, code = voted
    address = receipt_lookup_url("http://localhost/", world.slug, code)
    with app.test_request_context():
        drawn = qr_svg(address, title="x").split(' d="', 1)[1].split('"', 1)[0]
    assert drawn in text(receipt), "the receipt's QR code is not this address"
    # A browser sends all of the address but the fragment (after "#").
    opened = browser.get(urlsplit(address)._replace(fragment="").geturl())
    assert opened.status_code == 200
    assert access_log.holding(code) == []
    # Its page's form: what the script sends, and what the voter types without it.
    found = submit(browser, lookup_form(opened), code)
    assert found.status_code == 200 and 'data-status="pending"' in text(found)
    assert len(access_log.lines) > 10  # the recorder saw the whole flow
    assert access_log.holding(code) == []


def test_the_board_form_sends_the_code_in_no_url(access_log, voted):
    world, browser, _receipt, code = voted
    board = browser.get(f"/ciclos/{world.slug}/quadro")
    found = submit(browser, lookup_form(board), code.lower().replace("-", ""))  # as typed
    assert found.status_code == 200 and 'data-status="pending"' in text(found)
    assert access_log.holding(code) == []


def test_the_api_lookup_takes_the_code_in_no_url(app, access_log, voted):
    world, _browser, _receipt, code = voted
    answer = documented_lookup(app.test_client(), world.slug, code)
    assert answer.status_code == 200 and answer.get_json()["status"] == "pending"
    assert access_log.holding(code) == []


def test_the_recorder_sees_a_code_in_a_url(app, access_log):
    """Control for the check above: a request with the code in its URL is caught."""
    code = "K7Q2-M4XA-9PLD-W3ZT"
    app.test_client().get(f"/ciclos/nenhum/comprovante/{code}")
    app.test_client().get("/ciclos/nenhum/comprovante", query_string={"codigo": code.lower()})
    assert len(access_log.holding(code)) >= 2
