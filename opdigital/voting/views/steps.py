"""`voting_step`: what every step of the voting flow loads and checks before its own work.

Modelled on helios-server's `election_view`: the decorator turns the URL's slug into the cycle
and passes the view what it declares it needs, answering for it when that is missing. The order
of the checks is part of the behaviour, the same for every step:

1. the client's allowance, for the steps that identify or cast (`counted`);
2. the public cycle (404 for unknown and draft cycles);
3. the "voting is not open" page (`open_only`), before anything about the voter: a closed
   cycle says so rather than asking the visitor to identify; on a kiosk, also the "this voting
   point is closed" page while its point is not open for the cycle (so a closed point's kiosk
   takes no identification and no cast);
4. the voter identified in this browser (`needs_voter`), else back to identification;
5. the choices saved by the ballot (`needs_choices`), else back to the ballot.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import redirect, url_for

from opdigital.cycles.queries import public_cycle
from opdigital.errors import RateLimited
from opdigital.polling.services import point_is_open
from opdigital.voting import flow
from opdigital.voting.identification import count_client_request
from opdigital.voting.limits import current_client
from opdigital.voting.services import voting_window
from opdigital.voting.views.pages import closed, point_closed, restart, too_many
from opdigital.web import is_read, page_or_404


def voting_step(
    *,
    counted: bool = False,
    open_only: bool = True,
    needs_voter: bool = True,
    needs_choices: bool = False,
) -> Callable:
    """Load the step's cycle from `slug` and call the view as `view(cycle, voter=...,
    choices=...)`, with `voter` when `needs_voter` and `choices` when `needs_choices`.

    `counted`: each submission counts against the client's allowance (per address or voting
    point; identifications and casts, as the API counts them); over it, the same friendly page
    as a locked credential.
    """
    assert needs_voter or not needs_choices, "saved choices belong to an identified voter"

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def step(slug: str):
            if counted and not is_read():
                try:
                    count_client_request(current_client())
                except RateLimited as refused:
                    return too_many(refused)
            cycle = page_or_404(public_cycle, slug)
            if open_only and not voting_window(cycle).is_open:
                return closed(cycle)
            client = current_client()
            point = client.voting_point_id
            if open_only and client.is_kiosk and not point_is_open(point, cycle.id):
                return point_closed(cycle)
            loaded = {}
            if needs_voter:
                loaded["voter"] = voter = flow.current_voter(cycle)
                if voter is None:
                    return restart(cycle)
            if needs_choices:
                loaded["choices"] = choices = flow.saved_choices(cycle)
                if choices is None:
                    return redirect(url_for("voting.ballot", slug=cycle.slug), code=303)
            return view(cycle, **loaded)

        return step

    return decorator
