"""Routes of the results blueprint (pages and downloads) (registered on `bp` from the package)."""

from __future__ import annotations

import io

from flask import Response, render_template, url_for

from opdigital import display
from opdigital.cycles.models import Cycle
from opdigital.cycles.queries import public_cycle
from opdigital.errors import NotFound
from opdigital.formatting import COUNTING_RULE_LABELS
from opdigital.tally import services as tallies
from opdigital.tally.models import Tally
from opdigital.tally.pabulib_export import export_cycle
from opdigital.tally.results import build_results, money_chart, results_csv_text, votes_chart
from opdigital.tally.views import bp
from opdigital.web import page_or_404


@bp.context_processor
def inject_display_helpers() -> dict:
    # The same date helpers as the public pages (public/_macros.html's time_tag needs them).
    return {"when": display.when, "iso": display.iso, "day": display.day, "hour": display.hour}


# --- pages and downloads -------------------------------------------------------------------


def _published(slug: str) -> tuple[Cycle, Tally]:
    cycle = page_or_404(public_cycle, slug)
    return cycle, tallies.published_tally(cycle)


@bp.get("/ciclos/<slug>/resultados")
def results_page(slug: str):
    """The published result: winners, votes, money, turnout, charts, downloads, execution."""
    cycle = page_or_404(public_cycle, slug)
    try:
        record = tallies.published_tally(cycle)
    except NotFound:
        return render_template("results/not_published.html", cycle=cycle), 404
    results = build_results(cycle, record)
    return render_template(
        "results/results.html",
        cycle=cycle,
        results=results,
        rule=COUNTING_RULE_LABELS.get(record.result["counting_rule"]["name"]),
        votes_chart=votes_chart(results),
        money_chart=money_chart(results),
        downloads={
            "csv": url_for("results.results_csv", slug=cycle.slug),
            "json": url_for("api.results", slug=cycle.slug),
            "package": url_for("api.tally_package", slug=cycle.slug),
            "pb": url_for("results.results_pb", slug=cycle.slug),
            # Not "keys": templates read `downloads.keys` as the dict's method.
            "signing_keys": url_for("api.signing_keys"),
        },
        verify_command=(
            f"python -m opdigital.ledger.verify {cycle.slug}-tally.zip "
            f"--public-key {record.key_fingerprint}"
        ),
    )


def _attachment(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/ciclos/<slug>/resultados.csv")
def results_csv(slug: str):
    """The result per proposal as CSV (UTF-8 with a BOM, so spreadsheets read the accents)."""
    cycle, record = _published(slug)
    text = "\ufeff" + results_csv_text(build_results(cycle, record))
    return _attachment(text, "text/csv", f"{cycle.slug}-resultados.csv")


@bp.get("/ciclos/<slug>/resultados.pb")
def results_pb(slug: str):
    """The cycle's anonymised ballots in the Pabulib format, for researchers."""
    cycle, _record = _published(slug)
    out = io.StringIO()
    export_cycle(cycle.slug, out)
    return _attachment(out.getvalue(), "text/plain", f"{cycle.slug}.pb")
