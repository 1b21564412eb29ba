"""How long a kiosk waits for an idle voter before it cancels the vote and starts again.

With JavaScript (every kiosk browser we set up), `static/js/kiosk.js` counts from the voter's
last key press, touch, click or scroll: after `idle` seconds it asks "Are you still there?"
(an alert dialog with a countdown) and, if nobody answers within `warning` seconds, goes to
/quiosque/tempo-esgotado, which clears the session. Without JavaScript nothing can see the
voter's input, so a `<meta http-equiv="refresh">` (inside <noscript>, so it never fires where
the script runs) goes there `without_js` seconds after the page loaded: longer, since it cannot
tell a voter still reading from one who walked away, and any submission loads a new page.

The receipt page is shorter: the voter only has to print or photograph the code.
The server keeps a kiosk voter's context for `voting.flow.KIOSK_CONTEXT_LIFETIME` (10 minutes
from identification) whatever the page does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timeout:
    idle: int  # seconds without input before the warning (JavaScript)
    warning: int  # seconds the warning counts down before the reset
    without_js: int  # seconds after loading before the reset, without JavaScript


# Identification and review: a short read.
STEP = Timeout(idle=120, warning=30, without_js=240)
# The ballot can hold dozens of works to read and compare.
BALLOT = Timeout(idle=120, warning=30, without_js=480)
# The receipt: print it or photograph it, then "Finish".
RECEIPT = Timeout(idle=60, warning=30, without_js=120)
# Pages without a voter (closed point, refusals): back to the start screen.
NOTICE = Timeout(idle=60, warning=15, without_js=90)

BY_PAGE = {"step": STEP, "ballot": BALLOT, "receipt": RECEIPT, "notice": NOTICE}
