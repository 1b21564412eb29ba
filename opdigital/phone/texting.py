"""The receipt code sent by text message after a vote by voice, when the voter asks for it.

The trade-off, and why it is optional and asked for: the code never touches our storage (not
the outbox, not a table, not a log: `receipt_texter`'s function sends it at once and forgets
it), but the provider keeps a log of the messages it carries, so its log then links the
caller's number to the receipt code, and through the public ballot board to the choices made.
A voter who hears the code read out twice and writes it down leaves no such trace; one who
cannot write it down may prefer the text. The line offers it (dialogue.py, "receipt_menu") only
when this module can send it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from opdigital.phone.callers import is_withheld, normalised_number

log = logging.getLogger(__name__)

# The provider answers in well under a second; the caller is waiting on the line meanwhile.
TIMEOUT_SECONDS = 5.0

_SETTINGS = ("PHONE_ACCOUNT_SID", "PHONE_AUTH_TOKEN", "PHONE_TEXT_NUMBER")


def receipt_texter(number: str) -> Callable[[str], bool] | None:
    """A function sending a receipt code to `number` by text (True when the provider took it),
    or None when no text can be sent: the provider's account or the text number not set, or
    the caller's number withheld."""
    config = current_app.config
    if any(not config.get(name) for name in _SETTINGS) or is_withheld(number):
        return None
    to = normalised_number(number)
    sid, token, sender = (config[name] for name in _SETTINGS)
    base_url = config.get("PHONE_API_BASE_URL") or "https://api.twilio.com"

    def send(code: str) -> bool:
        with force_locale("pt_BR"):
            body = _(
                "OP: your receipt code is %(code)s. With it you can check on the ballot board "
                "of the OP website that your vote is counted.",
                code=code,
            )
        try:
            client = Client(sid, token, http_client=_http_client())
            client.api.base_url = base_url  # the provider's, or a local fake in tests
            client.messages.create(to=to, from_=sender, body=body)
        except Exception as e:  # noqa: BLE001 - any failure: the voter is told to write it down
            # Neither the number nor the code: only what kind of failure it was.
            log.warning("receipt text not sent", extra={"error": type(e).__name__})
            return False
        return True

    return send


def _http_client() -> TwilioHttpClient:
    # No retries: a second attempt could send the code twice, and the caller is waiting. (The
    # package logs each request's URL and headers at INFO, never its body: no number, no code.)
    return TwilioHttpClient(timeout=TIMEOUT_SECONDS, max_retries=0)
