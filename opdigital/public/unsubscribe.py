"""Stopping a proposer's e-mails from the link in each message, without signing in.

The signed token in the address is the authority (proposals/consent.py): it names one proposal
and only lets its holder stop the messages about it. A GET only asks for confirmation, because
mail scanners and link previews fetch every link of a message; the POST withdraws. Mail
clients offering one-click unsubscribe (RFC 8058) POST `List-Unsubscribe=One-Click` to the same
address from their own servers, with no session and so no CSRF token: the route is exempt
from CSRF, the token doing that job (no other site can forge it), and from a tight per-address
limit, since one mail provider's few servers send the one-click requests of all its users.
"""

from __future__ import annotations

from flask import render_template

from opdigital.errors import NotFound
from opdigital.extensions import csrf, limiter
from opdigital.proposals.consent import proposal_of_token, withdraw_consent
from opdigital.public import bp

URL = "/avisos/cancelar/<token>"
# Generous: a flood, not a mail provider relaying its users' clicks, reaches it.
POST_LIMIT = "120 per minute"


def _invalid(error: NotFound):
    return render_template("public/unsubscribe_invalid.html", message=error.message), 404


@bp.get(URL, endpoint="unsubscribe")
def unsubscribe(token: str):
    """Ask to confirm (changes nothing), or say the e-mails are already stopped."""
    try:
        proposal = proposal_of_token(token)
    except NotFound as e:
        return _invalid(e)
    return render_template("public/unsubscribe.html", proposal=proposal, token=token)


@bp.post(URL, endpoint="unsubscribe_confirm")
@csrf.exempt
@limiter.limit(POST_LIMIT)
def unsubscribe_confirm(token: str):
    """Withdraw the consent: from the confirmation page's button or a mail client's one click."""
    try:
        proposal = proposal_of_token(token)
    except NotFound as e:
        return _invalid(e)
    withdrawn = withdraw_consent(proposal)
    return render_template("public/unsubscribe_done.html", proposal=proposal, withdrawn=withdrawn)
