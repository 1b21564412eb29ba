"""The citizen's voting flow: identify -> ballot -> review -> confirm -> receipt (no JS needed).

Who is voting lives only in the visitor's session cookie, encrypted there by `voting.flow`
(Fernet; the cookie itself is only signed), never in a URL, a flash message or a log line; it is
dropped the moment the vote is cast, and the receipt is shown once.

One route module per step (`identify`, `ballot`, `review`, `receipt`), each importing `bp` from
here and none of its siblings. What they share is in modules that register no route: `steps`
(the `voting_step` decorator that loads the cycle, the voter and the saved choices), `pages`
(the pages several steps answer with), `presentation` (the ballot's layout and wording), and `qr`
(the receipt's QR code). The encrypted session itself is `opdigital.voting.flow`, outside the
blueprint, since a poll worker's assisted identification (`polling`) starts it too.
"""

from __future__ import annotations

from flask import Blueprint

from opdigital import display
from opdigital.kiosk.layout import layout_context
from opdigital.voting.limits import current_client
from opdigital.voting.services import voting_window
from opdigital.web import never_cache

bp = Blueprint("voting", __name__)


@bp.app_context_processor
def inject_voting_window() -> dict:
    # The public cycle page shows a "Vote" button while `voting_window(cycle).is_open`.
    return {"voting_window": voting_window}


@bp.context_processor
def inject_display_helpers() -> dict:
    return {"window_start": display.window_start, "window_end": display.window_end}


@bp.context_processor
def inject_layout() -> dict:
    # On an enrolled kiosk the steps render in the kiosk's layout (kiosk/layout.py).
    return layout_context(current_client)


bp.after_request(never_cache)


# The route modules register on `bp`.
from opdigital.voting.views import ballot, identify, receipt, review  # noqa: E402, F401
