"""Ending a voter's session on a kiosk, the one rule the kiosk's pages share."""

from __future__ import annotations

from flask import session

from opdigital.voting import flow


def end_voter_session(on_kiosk: bool) -> None:
    """On a kiosk, clear the whole session (the voter's place in the flow, a receipt not yet
    shown, the language chosen, and a poll worker left signed in). Anywhere else forget only the
    voter's place in the voting flow: a page that anyone can load (a GET, or a POST whose form
    expired) must not sign a staff member out of their own browser."""
    if on_kiosk:
        session.clear()
        return
    flow.forget_voter()
    session.pop(flow.RECEIPT, None)
