"""Small helpers shared by views."""

from __future__ import annotations

from flask import request

# HEAD is a GET without the body (RFC 9110): a view that shows a form on GET must treat HEAD
# the same way, not as a submission.
READ_METHODS = frozenset({"GET", "HEAD"})


def is_read() -> bool:
    """True when the request only reads (GET or HEAD), False for a submission."""
    return request.method in READ_METHODS
