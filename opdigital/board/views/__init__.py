"""Public pages of the board: its head and receipt lookups (docs/security.md, "Ballot board").

The board page shows what observers should record during the vote (the head), and a form to
look a receipt up. The code is a secret of the voter's that shows their choices, so it never
goes in a URL, where access logs (with the address and the time), browser history and Referer
headers would keep it: the form is POSTed and the answer rendered in reply to the POST. The
receipt's QR code opens the lookup page with the code after "#", which browsers never send to
the server; a small script (static/js/receipt-lookup.js) submits it, and without JavaScript the
page asks for the code printed under the QR code.

Lookups are rate-limited per address like the JSON lookup (guessing codes is hopeless, but
there is no reason to let anyone try fast), and never cached: a shared kiosk's cache must not
keep a code or a ballot.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("board", __name__)

# The route module registers on `bp`.
from opdigital.board.views import routes  # noqa: E402, F401
