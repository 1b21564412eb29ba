"""Only the telephony provider may drive the phone line: every webhook carries its signature.

Providers speaking TwiML sign each request with the account's auth token: HMAC-SHA1 over the
full URL they called and the sorted form parameters, sent as `X-Twilio-Signature`. We check it
with the `twilio` package's validator against the URL as the provider saw it: PUBLIC_BASE_URL
(the address the provider is configured with, in front of the proxy) plus the path and query.
A request without a valid signature is refused before anything is read or counted.
"""

from __future__ import annotations

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def line_configured() -> bool:
    """True when the provider's auth token is set: without it nothing can be verified, and the
    webhooks answer 404 as if the line did not exist."""
    return bool(current_app.config.get("PHONE_AUTH_TOKEN"))


def public_url() -> str:
    """The URL the provider called, as it signed it."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def require_provider_signature() -> None:
    """Abort with 404 when the line is not configured, 403 when the signature is missing or
    wrong (a forged or replayed-elsewhere request)."""
    if not line_configured():
        abort(404)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    validator = RequestValidator(current_app.config["PHONE_AUTH_TOKEN"])
    params = request.form.to_dict(flat=True) if request.method == "POST" else {}
    if not signature or not validator.validate(public_url(), params, signature):
        abort(403)


def sign(url: str, params: dict[str, str], token: str) -> str:
    """The signature a provider would send for `params` POSTed to `url` (the simulator's and
    the tests' side of the protocol)."""
    return RequestValidator(token).compute_signature(url, params)
