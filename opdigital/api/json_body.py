"""The JSON API's small POST bodies: read within a cap, decoded strictly, answers never cached.

A ballot and a receipt lookup are a few hundred bytes: a larger body is refused before it is
buffered (by its Content-Length when it gives one), and anything that is not UTF-8 JSON is
refused with a message, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

JSON_MEDIA_TYPE = "application/json"
# Casts and lookups answer with a receipt or a ballot's choices: never cached anywhere.
NO_STORE = "no-store"

Refusal = Callable[[Any], Exception]


def is_json(mimetype: str) -> bool:
    return mimetype == JSON_MEDIA_TYPE


def no_store(response):
    """For `after_this_request`: this answer (error answers included) is never stored."""
    response.headers["Cache-Control"] = NO_STORE
    return response


def read_body(max_bytes: int, refuse: Refusal, *, wrong_type, too_large) -> bytes:
    """The request's body, JSON by its media type and at most `max_bytes`, or `refuse(message)`
    raised."""
    if not is_json(request.mimetype):
        raise refuse(wrong_type)
    # Checked before reading, so an oversized body is never buffered.
    if request.content_length is not None and request.content_length > max_bytes:
        raise refuse(too_large)
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise refuse(too_large)
    return raw


def decode_json(raw: bytes, refuse: Refusal) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting: RecursionError
        raise refuse(_l("The request body is not valid JSON.")) from None
