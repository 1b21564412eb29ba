"""How values are shown to people: money in reais, translated names of every enum value, and
the counting rules with their explanations."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_currency
from flask_babel import lazy_gettext as _l


def money(cents: int | None) -> str:
    """Format a whole number of centavos as reais in the current locale (R$ 1.234,56)."""
    if cents is None:
        return ""
    return format_currency(Decimal(cents) / 100, "BRL")


# Each counting rule of the registry (`counting/rules.py`, which holds the names) with a plain
# explanation: beside its radio button on the coordinator's settings form, on the settings page
# and on the public results page.
COUNTING_RULE_LABELS = {
    "plurality-per-region": (
        _l("Most voted in each region"),
        _l("The work with the most votes in each region is chosen (2006 and 2011)."),
    ),
    "greedy": (
        _l("Greedy by votes within the budget"),
        _l(
            "Projects are funded from the most voted down, skipping any that no longer fits "
            "the money left (the usual rule of Decidim and CONSUL)."
        ),
    ),
    "mes": (
        _l("Method of Equal Shares"),
        _l(
            "The budget is divided equally among the voters, and each project is paid by "
            "those who voted for it: proportional to the voters' choices."
        ),
    ),
    "mes-completed": (
        _l("Method of Equal Shares, completed"),
        _l("Equal shares, then any money left is spent by a documented completion step."),
    ),
}


def labels() -> dict[str, dict[str, str]]:
    """Human names for stored codes, by group; templates use `labels.state[cycle.state]`."""
    return {
        "kind": {
            "op-digital": _l("OP Digital"),
            "op-regional": _l("OP Regional"),
            "opca": _l("OPCA: children and adolescents"),
        },
        "state": {
            "draft": _l("Draft"),
            "open_for_proposals": _l("Open for proposals"),
            "under_review": _l("Under technical review"),
            "ballot_frozen": _l("Ballot frozen"),
            "voting": _l("Voting"),
            "closed": _l("Voting closed"),
            "tallied": _l("Tallied"),
            "published": _l("Results published"),
            "monitoring": _l("Monitoring of execution"),
        },
        "phase": {
            "proposals": _l("Proposal submission"),
            "assemblies": _l("Assemblies"),
            "review": _l("Technical review"),
            "caravans": _l("Caravans"),
            "voting": _l("Voting"),
            "tally": _l("Tally"),
            "results": _l("Results"),
            "monitoring": _l("Monitoring of execution"),
        },
        "event": {
            "assembly": _l("Assembly"),
            "caravan": _l("Caravan (site visit)"),
            "regional_forum": _l("Regional Priorities Forum"),
            "comforca_election": _l("Comforça election"),
            "school_assembly": _l("School assembly"),
            "delegates_meeting": _l("Delegates meeting"),
            "voting_point": _l("Voting point"),
            "other": _l("Other"),
        },
        "proposal": {
            "submitted": _l("Submitted"),
            "under_review": _l("Under review"),
            "accepted": _l("Accepted for the ballot"),
            "rejected": _l("Not accepted"),
            "on_ballot": _l("On the ballot"),
            "selected": _l("Selected"),
            "not_selected": _l("Not selected"),
        },
        "execution": {
            "not_started": _l("Not started"),
            "tendering": _l("Tendering"),
            "in_works": _l("In works"),
            "done": _l("Done"),
            "cancelled": _l("Cancelled"),
        },
        "origin": {
            "citizen": _l("Citizen"),
            "assembly": _l("Assembly"),
            "staff": _l("City staff"),
        },
        "role": {
            "admin": _l("Administrator"),
            "coordinator": _l("Coordinator"),
            "auditor": _l("Auditor"),
            "privacy_officer": _l("Privacy officer (encarregado)"),
            "monitor": _l("Comforça member"),
        },
        "status": {
            "upcoming": _l("Upcoming"),
            "current": _l("Happening now"),
            "past": _l("Finished"),
        },
    }
