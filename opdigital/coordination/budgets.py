"""Staff screen for the budget of each region: set by hand or split by the formula."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from opdigital.coordination import bp
from opdigital.coordination.common import actor, load_cycle
from opdigital.coordination.forms import FormulaForm, region_budget_form
from opdigital.cycles import services as cycles
from opdigital.cycles.models import Cycle
from opdigital.errors import DomainError
from opdigital.regions.queries import all_regions
from opdigital.web import is_read


@bp.route("/cycles/<slug>/budgets", methods=["GET", "POST"])
def budgets(slug: str):
    """Two forms on one page, told apart by the hidden `action` field each sends."""
    cycle = load_cycle(slug)
    regions = all_regions()
    current = cycles.region_budgets(cycle)
    posted = request.form.get("action") if request.method == "POST" else None

    manual_kwargs = {f"region_{r.id}": current.get(r.id) for r in regions}
    if posted == "manual":
        manual = region_budget_form(regions)
    else:
        manual = region_budget_form(regions, formdata=None, **manual_kwargs)
    if posted == "formula":
        formula = FormulaForm()
    else:
        formula = FormulaForm(formdata=None, equal_share_percent=cycle.equal_share_percent)

    if is_read():
        return _page(cycle, regions, manual, formula, None, 200)
    if posted not in ("manual", "formula"):
        return _page(cycle, regions, manual, formula, _("Choose which budget form to send."), 422)

    form = manual if posted == "manual" else formula
    if not form.validate():
        return _page(cycle, regions, manual, formula, None, 422)
    try:
        if posted == "manual":
            amounts = {r.id: manual[f"region_{r.id}"].data or 0 for r in regions}
            cycles.set_region_budgets(cycle, amounts, actor())
            flash(_("The regions' budgets were saved."), "success")
        else:
            cycles.apply_budget_formula(cycle, formula.equal_share_percent.data, actor())
            flash(_("The budget was split by the formula."), "success")
    except DomainError as e:
        cycle = load_cycle(slug)
        return _page(cycle, regions, manual, formula, str(e), e.status)
    return redirect(url_for("coordination.budgets", slug=slug))


def _page(cycle: Cycle, regions, manual, formula, error: str | None, status: int):
    current = cycles.region_budgets(cycle)
    allocated = sum(current.values())
    weights = {r.id: r.population * r.need_index for r in regions}
    page = render_template(
        "coordination/budgets.html",
        cycle=cycle,
        regions=regions,
        current=current,
        allocated=allocated,
        remainder=cycle.total_budget_cents - allocated,
        weights=weights,
        weight_sum=sum(weights.values()),
        manual=manual,
        formula=formula,
        error=error,
    )
    return page, status
