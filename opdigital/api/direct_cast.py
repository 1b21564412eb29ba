"""`POST /api/v1/cycles/{slug}/ballots` served without Flask's per-request machinery.

Why: casting is the busiest request of a voting day, and measured on two cores Flask's request
context, hooks and response building cost more CPU than everything the cast itself does (docs:
README, "Benchmarks"). This WSGI layer sits just around Flask and serves the casts that go well,
the common case, with the same functions as the view (`api.ballots`) in the same order:

1. It takes only a plain request: POST to that path, no query string, a JSON body of a length
   given and within bounds. Anything else goes to Flask untouched.
2. It checks the body, the cycle, the voting window and the ballot. These change nothing, so on
   any refusal (or any surprise) the request goes to Flask with its body, to be answered there
   from the start: one code path renders every refusal.
3. It identifies and casts through `voting.identification.identify_with_limits`, as the view
   does, counting the request against the client's allowance together with the
   identification (one round trip to the store: the view counted it on arrival). From here on
   a refusal (429, 403, 409) or a failure (503) cannot be handed over (the attempt is counted),
   so it is answered by Flask's own error handlers, in a request context made for it.
4. A 201 is written here, with the headers Flask would send.
"""

from __future__ import annotations

import io
import json
import re

from flask import Flask, current_app, has_app_context

from opdigital.api.ballots import MAX_BODY_BYTES, cast_checked, check_ballot_request
from opdigital.api.json_body import NO_STORE, is_json
from opdigital.voting.limits import VOTING_POINT_TOKEN_HEADER, client_of
from opdigital.web import forget_previous_request, security_headers

# A slug as cycles have them; other paths (odd characters, encodings) are Flask's to judge.
_CAST_PATH = re.compile(r"/api/v1/cycles/([A-Za-z0-9_-]{1,100})/ballots")
_TOKEN_ENVIRON_KEY = "HTTP_" + VOTING_POINT_TOKEN_HEADER.upper().replace("-", "_")


class DirectCast:
    """WSGI middleware: casts answered directly, every other request passed to `wsgi_app`."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        slug = self._cast_slug(environ)
        raw = _plain_json_body(environ) if slug is not None else None
        answer = self._answer(environ, slug, raw) if raw is not None else None
        if answer is None:  # not ours, or refused before anything was counted: Flask answers
            return self.wsgi_app(environ, start_response)
        return answer(environ, start_response)

    def _cast_slug(self, environ) -> str | None:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING"):
            return None
        if not self.app.config.get("DIRECT_CAST", True):
            return None
        if self.app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            return None  # `make run`: the view's step-by-step cast, nothing to gain here
        match = _CAST_PATH.fullmatch(environ.get("PATH_INFO", ""))
        return match.group(1) if match else None

    def _answer(self, environ, slug: str, raw: bytes):
        """The WSGI answer, or None to let Flask answer (the request's body rewound)."""
        reused = _inside(self.app)
        context = None if reused else self.app.app_context()
        if reused:
            forget_previous_request()  # another request's cached state may be on `g`
        else:
            context.push()
        try:
            return self._cast(environ, slug, raw)
        finally:
            environ["wsgi.input"].seek(0)
            if context is not None:
                context.pop()

    def _cast(self, environ, slug: str, raw: bytes):
        try:
            checked = check_ballot_request(slug, raw)
        except Exception:  # a refusal, or anything else: nothing was done, Flask answers it all
            return None
        try:
            client = client_of(environ.get(_TOKEN_ENVIRON_KEY, ""), environ.get("REMOTE_ADDR", ""))
            # The request was not counted yet: with the identification, in one round trip.
            receipt = cast_checked(checked, client, count_request=True)
        except Exception as error:  # counted: no handing over now, Flask's handlers answer
            return self._error_response(environ, error)
        return _created(receipt)

    def _error_response(self, environ, error: Exception):
        with self.app.request_context(environ):
            response = self.app.make_response(self.app.handle_user_exception(error))
            response.headers["Cache-Control"] = NO_STORE
            return self.app.process_response(response)


def _inside(app: Flask) -> bool:
    """An application context of this app is already active (tests push one around requests;
    Flask reuses it for its requests too)."""
    return has_app_context() and current_app._get_current_object() is app


def _plain_json_body(environ) -> bytes | None:
    """The body of a JSON request that declares a length within bounds, else None (unread)."""
    media_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if not is_json(media_type):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY_BYTES:
        return None
    raw = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(raw)  # read once here; whoever answers reads it again
    return raw if len(raw) == length else None


def _created(receipt: str):
    """The 201 as the view sends it: `jsonify`'s bytes (compact, final newline), its headers."""
    body = json.dumps({"receipt": receipt}, separators=(",", ":")).encode() + b"\n"
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", NO_STORE),
        ("Vary", "Cookie"),  # Flask's, as Flask-Login looks at the session on every answer
        *security_headers(current_app.config),
    ]

    def answer(environ, start_response):
        start_response("201 CREATED", headers)
        return [body]

    return answer
