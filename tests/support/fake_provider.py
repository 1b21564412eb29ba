"""A local stand-in for the telephony provider's REST API: the Messages endpoint only.

It speaks the protocol the `twilio` package does (POST /2010-04-01/Accounts/<sid>/Messages.json,
HTTP basic auth with the account sid and auth token, a form body with To, From and Body) and
answers like the provider: 201 with the message as JSON, 401 for wrong credentials, 404 for
any other address, or the error set in `fail_with`. What it accepted is kept in `messages`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.support.live import free_port

SID = "AC" + "0" * 32
TOKEN = "fake-provider-auth-token"  # noqa: S105 - a test's


@dataclass(frozen=True)
class Sent:
    """One message the fake provider accepted."""

    account: str
    to: str
    sender: str
    body: str


class FakeProvider:
    """The server on 127.0.0.1 (`base_url`), with what it received; `start()`/`stop()`."""

    def __init__(self, sid: str = SID, token: str = TOKEN):
        self.sid, self.token = sid, token
        self.port = free_port()
        self.messages: list[Sent] = []
        self.requests = 0  # every request, accepted or not
        self.fail_with: int | None = None  # answer this status (with an error body) instead
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        provider = self

        class Handler(_Handler):
            fake = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.requests = 0
            self.fail_with = None

    def _received(self, sent: Sent) -> None:
        with self._lock:
            self.messages.append(sent)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeProvider

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # the request line names the account; the tests read `messages` instead

    def do_POST(self):  # noqa: N802 - http.server's name
        with self.fake._lock:
            self.fake.requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path != f"/2010-04-01/Accounts/{self.fake.sid}/Messages.json":
            return self._json(404, _error(20404, "The requested resource was not found", 404))
        expected = base64.b64encode(f"{self.fake.sid}:{self.fake.token}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            return self._json(401, _error(20003, "Authenticate", 401))
        if self.fake.fail_with is not None:
            status = self.fake.fail_with
            return self._json(status, _error(21610, "Attempt to send to unsubscribed", status))
        if not all(form.get(name) for name in ("To", "From", "Body")):
            return self._json(400, _error(21604, "A 'To' phone number is required.", 400))
        sent = Sent(self.fake.sid, form["To"], form["From"], form["Body"])
        self.fake._received(sent)
        return self._json(
            201,
            {
                "sid": "SM" + secrets.token_hex(16),
                "account_sid": sent.account,
                "to": sent.to,
                "from": sent.sender,
                "body": sent.body,
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "uri": f"/2010-04-01/Accounts/{sent.account}/Messages.json",
            },
        )

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _error(code: int, message: str, status: int) -> dict:
    return {"code": code, "message": message, "more_info": "", "status": status}
