"""Routes of the kiosk blueprint (registered on `bp` from the package)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from opdigital.kiosk.services import cycles_voting_now
from opdigital.kiosk.sessions import end_voter_session
from opdigital.kiosk.views import bp
from opdigital.polling.services import point_is_open
from opdigital.voting.limits import current_client


def _not_enrolled():
    """This browser holds no valid kiosk credential (never enrolled, revoked, or forged)."""
    return render_template("kiosk/not_enrolled.html"), 403


@bp.get("")
def start():
    """The start screen for the next voter: the point, and the cycle(s) open for voting at it."""
    client = current_client()
    if not client.is_kiosk:
        return _not_enrolled()
    voting = cycles_voting_now()
    open_here = [cycle for cycle in voting if point_is_open(client.voting_point_id, cycle.id)]
    if voting and not open_here:
        return render_template("kiosk/point_closed.html", cycle=None, cycles=voting)
    # A poll worker signs in here to identify a voter from a document (polling.identify).
    staff_links = {"sign_in": url_for("accounts.login", next=url_for("polling.identify"))}
    return render_template(
        "kiosk/start.html", cycles=open_here, staff_links=staff_links, nothing_open=not voting
    )


@bp.post("/proximo")
def next_voter():
    """The "Finish — next voter" button: on a kiosk the whole session is cleared; back to the
    start."""
    end_voter_session(current_client().is_kiosk)
    return redirect(url_for("kiosk.start"), code=303)


@bp.post("/cancelar")
def cancel():
    """The "Cancel" button of any step: on a kiosk the whole session is cleared; nothing was
    recorded."""
    end_voter_session(current_client().is_kiosk)
    if current_client().is_kiosk:
        flash(_("The vote was cancelled: nothing was recorded."), "info")
    return redirect(url_for("kiosk.start"), code=303)


@bp.get("/tempo-esgotado")
def timed_out():
    """Where an idle voter's page goes (the script's countdown, or the page's meta refresh).

    A GET, since a meta refresh can only load a page. It clears the session of a kiosk (the
    voter's place in the flow, and a poll worker left signed in); anywhere else it forgets only
    the voter's place in the voting flow. So a link from elsewhere can at most make someone start
    their vote again: it records nothing, reveals nothing, and signs no staff member out.
    """
    end_voter_session(current_client().is_kiosk)
    return render_template("kiosk/timed_out.html")
