"""A cycle's "vote by phone" page: the numbers, the steps of a call, the keys and the words a
text message may use, and the ballot as a plain list in the line's order (each work with the
number the line reads), which screen readers read well and which prints as a leaflet.

Public like the cycle page (drafts and unknown cycles are 404). A cycle that cannot take phone
votes (OPCA, delegates) or has no phone channel on answers 200 with a sentence saying so: the
address may have been printed or shared, and the reader is better told how to vote instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from flask import render_template
from flask_babel import lazy_gettext as _l

from opdigital.cycles.models import Cycle
from opdigital.cycles.queries import public_cycle
from opdigital.phone import switches
from opdigital.phone.dialogue import Work
from opdigital.phone.services import phone_works
from opdigital.public import bp
from opdigital.voting.services import frozen_ballot
from opdigital.voting.wording import rule_sentences
from opdigital.web import page_or_404

# The keys, in the order docs/phone.md gives them: (key, what it does, the words a text message
# may send instead, as phone/words.py reads them; "" when the key has none).
KEYS = (
    ("1", _l("Choose the work just read; at the summary, confirm the vote"), "SIM, ESCOLHER"),
    ("2", _l("Go to the next work; at the summary, change the choices"), "PROXIMA, NÃO"),
    ("3", _l("Go back to the previous work"), "VOLTAR"),
    ("9", _l("Skip the rest of this region"), "PULAR"),
    ("0", _l("Repeat"), "REPETIR"),
    ("#", _l("Hear the summary of your choices"), "RESUMO"),
    ("*", _l("Slower speech, or back to normal speed (voice line only)"), ""),
)


@dataclass(frozen=True)
class RegionWorks:
    """The works of one region (`name` "" for city-wide works), in the line's order."""

    name: str
    works: tuple[Work, ...]


def ballot_by_region(cycle: Cycle) -> list[RegionWorks] | None:
    """The frozen ballot's works as the line reads them, region by region; None before the
    ballot is frozen (the numbers are only fixed then)."""
    if cycle.ballot_frozen_at is None:
        return None
    grouped = groupby(phone_works(cycle), key=lambda w: (w.region_id, w.region_name))
    return [RegionWorks(name, tuple(works)) for (_region, name), works in grouped]


@bp.get("/ciclos/<slug>/votar-por-telefone")
def phone_help(slug: str):
    cycle = page_or_404(public_cycle, slug)
    not_possible, on = switches.why_no_phone(cycle), switches.switches_of(cycle)
    offered = not_possible is None and on.any
    frozen = offered and cycle.ballot_frozen_at is not None
    return render_template(
        "public/phone_help.html",
        cycle=cycle,
        not_possible=not_possible,
        offered=offered,
        offer=switches.phone_offer(cycle) if offered else None,
        keys=KEYS,
        regions=ballot_by_region(cycle) if frozen else None,
        rule=rule_sentences(frozen_ballot(cycle).rule) if frozen else [],
    )
