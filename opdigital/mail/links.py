"""Absolute links for e-mails, built with or without a web request.

Messages are often written by commands (the tally, `opdigital retention run`), where Flask's
`url_for(..., _external=True)` has no host to use. Links always start with PUBLIC_BASE_URL,
never with the Host header of whoever triggered the message.
"""

from __future__ import annotations

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """PUBLIC_BASE_URL followed by the path of `endpoint` with `values`."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return base + adapter.build(endpoint, values)
