"""Staff screen "Voting by phone": switch a cycle's voice line and text messages on and off.

Usable in every state, also while the vote is open (opdigital/phone/switches.py says why).
Shows the numbers configured for the city and what keeps a channel that is on from working.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from opdigital.coordination import bp
from opdigital.coordination.common import actor, load_cycle
from opdigital.coordination.forms import StaffForm
from opdigital.cycles.models import Cycle
from opdigital.errors import DomainError
from opdigital.phone import switches
from opdigital.web import is_read

SETUP_PROBLEMS = {
    switches.UNSIGNED: _l(
        "The provider's auth token (PHONE_AUTH_TOKEN) is not set: every call and message is "
        "refused until it is."
    ),
    switches.NO_VOICE_NUMBER: _l(
        "The voice line is on but no number is set (PHONE_VOICE_NUMBER): citizens are not "
        "told which number to call."
    ),
    switches.NO_TEXT_NUMBER: _l(
        "Text messages are on but no number is set (PHONE_TEXT_NUMBER): citizens are not "
        "told where to send them."
    ),
}


class PhoneSwitchesForm(StaffForm):
    voice = BooleanField(_l("Voice line: citizens call and key in their vote"))
    text = BooleanField(_l("Text messages: citizens vote by SMS or a messaging app"))

    def switches(self) -> switches.PhoneSwitches:
        return switches.PhoneSwitches(bool(self.voice.data), bool(self.text.data))


@bp.route("/cycles/<slug>/phone", methods=["GET", "POST"])
def phone_settings(slug: str):
    """Show the switches and save what is posted (refused with a 409 where no phone vote fits)."""
    cycle = load_cycle(slug)
    if is_read():
        now_on = switches.switches_of(cycle)
        form = PhoneSwitchesForm(formdata=None, voice=now_on.voice, text=now_on.text)
        return _page(cycle, form, None, 200)
    form = PhoneSwitchesForm()
    if not form.validate():
        return _page(cycle, form, None, 422)
    try:
        changed = switches.set_phone_switches(cycle, form.switches(), actor())
    except DomainError as e:
        return _page(load_cycle(slug), form, str(e), e.status)
    if changed:
        flash(_("Voting by phone was updated."), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("coordination.phone_settings", slug=slug))


def _page(cycle: Cycle, form: PhoneSwitchesForm, error: str | None, status: int):
    numbers = switches.configured_numbers()
    page = render_template(
        "coordination/phone.html",
        cycle=cycle,
        form=form,
        error=error,
        on=switches.switches_of(cycle),
        numbers=numbers,
        not_possible=switches.why_no_phone(cycle),
        problems=[SETUP_PROBLEMS[p] for p in switches.setup_problems(cycle, numbers)],
        start_word=switches.START_WORD,
    )
    return page, status
