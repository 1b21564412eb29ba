"""Staff screen for a cycle's voting settings: ballot rule, counting rule, eligibility, display.

Editable until the ballot is frozen; afterwards the page shows the settings read-only.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from opdigital.coordination import bp
from opdigital.coordination.common import actor, load_cycle
from opdigital.coordination.forms import CalendarDateField, StaffForm, choice, optional_int
from opdigital.counting.rules import RULES as COUNTING_RULES
from opdigital.cycles.models import Cycle
from opdigital.errors import DomainError
from opdigital.fields import WholeNumberField
from opdigital.formatting import COUNTING_RULE_LABELS
from opdigital.regions.queries import all_regions
from opdigital.voting import settings as voting
from opdigital.voting.settings import MAX_LIMIT, VotingSettings
from opdigital.web import is_read

# Each ballot rule with a plain explanation, shown beside its radio button and on the read-only
# page (the counting rules' are `formatting.COUNTING_RULE_LABELS`).
BALLOT_RULES = {
    "one-per-region": (
        _l("One choice per region"),
        _l(
            "As in Belo Horizonte in 2006 and 2011: the voter may choose at most one work in "
            "each region. The minimum below is the number of regions the voter must choose in "
            "(1 if blank); the maximum, if set, limits how many regions."
        ),
    ),
    "one-city-wide": (
        _l("One choice city-wide"),
        _l(
            "As in 2008 and 2013: the voter chooses exactly one project among all. The limits "
            "below are not used."
        ),
    ),
    "approval": (
        _l("Approval"),
        _l(
            "The voter approves between the minimum and the maximum number of projects "
            "(at least one, and no upper limit, if blank)."
        ),
    ),
    "knapsack": (
        _l("Knapsack (within the budget)"),
        _l(
            "As in Decidim: the voter picks projects whose total cost fits the budget, and "
            "optionally spends at least the minimum share of it."
        ),
    ),
}

REGISTRY_SCOPES = {
    "city": _l("The city's voter registry (shared by every city-wide cycle)"),
    "cycle": _l("A registry imported for this cycle only"),
    "delegates": _l(
        "The cycle's delegates (each votes once with the code printed on their slip; ages do "
        "not apply)"
    ),
}


class VotingSettingsForm(StaffForm):
    ballot_rule = RadioField(
        _l("Ballot rule"),
        choices=[choice(k, name) for k, (name, _help) in BALLOT_RULES.items()],
        validators=[InputRequired(message=_l("Choose a ballot rule."))],
    )
    min_choices = WholeNumberField(
        _l("Minimum number of choices"),
        validators=[Optional(), NumberRange(min=0, max=MAX_LIMIT)],
    )
    max_choices = WholeNumberField(
        _l("Maximum number of choices"),
        validators=[Optional(), NumberRange(min=1, max=MAX_LIMIT)],
    )
    min_budget_share_percent = WholeNumberField(
        _l("Minimum share of the budget (percent)"),
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    per_region = BooleanField(_l("Apply the limits and budgets in each region separately"))
    own_region_only = BooleanField(_l("Each voter chooses only works of their own region"))
    counting_rule = RadioField(
        _l("Counting rule"),
        choices=[choice(k, COUNTING_RULE_LABELS[k][0]) for k in COUNTING_RULES],
        validators=[InputRequired(message=_l("Choose a counting rule."))],
    )
    min_voter_age = WholeNumberField(
        _l("Minimum voter age"), validators=[Optional(), NumberRange(min=0, max=130)]
    )
    max_voter_age = WholeNumberField(
        _l("Maximum voter age"), validators=[Optional(), NumberRange(min=0, max=130)]
    )
    age_reference_date = CalendarDateField(_l("Ages reckoned on"), validators=[Optional()])
    restrict_region_id = SelectField(_l("Who may vote"), coerce=optional_int, validate_choice=True)
    registry_scope = RadioField(
        _l("Voter registry"),
        choices=[choice(k, label) for k, label in REGISTRY_SCOPES.items()],
        validators=[InputRequired(message=_l("Choose which voter registry applies."))],
    )
    shuffle_ballot = BooleanField(_l("Shuffle the order of the ballot for each voter"))
    show_running_totals = BooleanField(_l("Show running totals to voters after they vote"))

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.restrict_region_id.choices = [choice("", _l("Residents of the whole city"))] + [
            choice(str(r.id), _l("Residents of %(region)s only", region=r.name)) for r in regions
        ]

    def validate_max_choices(self, field):
        low = self.min_choices.data
        if field.data is not None and low is not None and field.data < low:
            raise ValidationError(_l("The maximum must not be below the minimum."))

    def validate_max_voter_age(self, field):
        low = self.min_voter_age.data
        if field.data is not None and low is not None and field.data < low:
            raise ValidationError(_l("The maximum age must not be below the minimum age."))

    def settings(self) -> VotingSettings:
        return VotingSettings(
            ballot_rule=self.ballot_rule.data,
            counting_rule=self.counting_rule.data,
            min_choices=self.min_choices.data,
            max_choices=self.max_choices.data,
            min_budget_share_percent=self.min_budget_share_percent.data,
            per_region=bool(self.per_region.data),
            own_region_only=bool(self.own_region_only.data),
            min_voter_age=self.min_voter_age.data,
            max_voter_age=self.max_voter_age.data,
            age_reference_date=self.age_reference_date.data,
            restrict_region_id=self.restrict_region_id.data,
            registry_scope=self.registry_scope.data,
            shuffle_ballot=bool(self.shuffle_ballot.data),
            show_running_totals=bool(self.show_running_totals.data),
        )


def _prefill(cycle: Cycle) -> dict:
    current = voting.settings_of(cycle)
    values = {k: getattr(current, k) for k in VotingSettings.__dataclass_fields__}
    # A cycle without rules yet: no radio button is checked, so the choice is a deliberate one.
    values["ballot_rule"] = current.ballot_rule or None
    values["counting_rule"] = current.counting_rule or None
    return values


@bp.route("/cycles/<slug>/voting-settings", methods=["GET", "POST"])
def voting_settings(slug: str):
    """Show the settings form (or the frozen settings) and save what is posted."""
    cycle = load_cycle(slug)
    regions = all_regions()
    if is_read():
        form = VotingSettingsForm(formdata=None, regions=regions, **_prefill(cycle))
        return _page(cycle, form, None, 200)
    form = VotingSettingsForm(regions=regions)
    if not form.validate():
        return _page(cycle, form, None, 422)
    try:
        voting.configure_voting(cycle, form.settings(), actor())
    except DomainError as e:
        return _page(load_cycle(slug), form, str(e), e.status)
    flash(_("The voting settings were saved."), "success")
    return redirect(url_for("coordination.voting_settings", slug=slug))


def _page(cycle: Cycle, form: VotingSettingsForm, error: str | None, status: int):
    current = voting.settings_of(cycle)
    region_names = {r.id: r.name for r in all_regions()}
    page = render_template(
        "coordination/voting_settings.html",
        cycle=cycle,
        form=form,
        error=error,
        current=current,
        ballot_rules=BALLOT_RULES,
        counting_rules=COUNTING_RULE_LABELS,
        registry_scopes=REGISTRY_SCOPES,
        region_names=region_names,
    )
    return page, status
