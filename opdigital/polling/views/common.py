"""What the poll worker's pages share (no routes here)."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from opdigital.polling.services import Assignment, assignment_of

# The paper ballot pages (another feature's blueprint), linked when it is installed.
PAPER_PAGES = (
    ("paper.participation", _l("Record a vote on paper")),
    ("paper.sheets", _l("Print paper ballots")),
    ("paper.batches", _l("Enter paper ballots")),
)


def poll_worker():
    """The signed-in poll worker as a plain object for services and the audit log."""
    return current_user._get_current_object()


def current_assignment() -> Assignment:
    """The signed-in poll worker's point and cycle (NotFound, a 404, if the account has none)."""
    return assignment_of(poll_worker())


def paper_links(where: Assignment) -> list[tuple[str, str]]:
    """(label, URL) of each paper page that exists in this app, for the dashboard; the URL's
    parts (the cycle's slug, the point's id) are filled in from the poll worker's own."""
    known = {"slug": where.cycle.slug, "point_id": where.point.id, "cycle_id": where.cycle.id}
    links = []
    for endpoint, label in PAPER_PAGES:
        if endpoint not in current_app.view_functions:
            continue
        rules = current_app.url_map.iter_rules(endpoint)
        for rule in rules:
            if not rule.arguments <= known.keys():
                continue
            try:
                url = url_for(endpoint, **{name: known[name] for name in rule.arguments})
            except BuildError:
                continue
            links.append((str(label), url))
            break
    return links
