"""Which phone channels a cycle offers, and what citizens and coordinators are told about them.

Coordinators switch the voice line and text messages on and off per cycle at any time, also
while the vote is open (unlike the voting settings, fixed with the ballot): a city may open the
line on the second day, or close it when its provider fails. Switching a channel on is refused
where a caller could not identify by keypad (`services.takes_phone_votes`: OPCA, delegates).

The numbers come from the settings (PHONE_VOICE_NUMBER, PHONE_TEXT_NUMBER), shared by every
cycle: one toll-free line serves them all, with a menu when several vote at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.cycles.models import Cycle, CycleKind
from opdigital.cycles.states import CycleState
from opdigital.errors import Conflict
from opdigital.extensions import db
from opdigital.phone.services import takes_phone_votes
from opdigital.voting.services import voting_window

# The word that starts a conversation by text message (the text adapter takes it, or any
# message, as a greeting); printed beside the text number.
START_WORD = "VOTAR"

# Problems with the settings while a channel is on, for the coordinators' screen.
UNSIGNED = "no_auth_token"  # no PHONE_AUTH_TOKEN: the webhooks refuse every request
NO_VOICE_NUMBER = "no_voice_number"  # citizens are not told which number to call
NO_TEXT_NUMBER = "no_text_number"  # ... nor where to text

# States before the vote in which the cycle page already announces the phone numbers.
_BEFORE_THE_VOTE = (
    CycleState.OPEN_FOR_PROPOSALS,
    CycleState.UNDER_REVIEW,
    CycleState.BALLOT_FROZEN,
    CycleState.VOTING,
)


@dataclass(frozen=True)
class PhoneSwitches:
    voice: bool
    text: bool

    @property
    def any(self) -> bool:
        return self.voice or self.text


def switches_of(cycle: Cycle) -> PhoneSwitches:
    return PhoneSwitches(bool(cycle.phone_voice), bool(cycle.phone_text))


def why_no_phone(cycle: Cycle) -> str | None:
    """Why this cycle cannot take phone votes (in words), or None when it can."""
    if takes_phone_votes(cycle):
        return None
    if cycle.kind == CycleKind.OPCA.value:
        return str(
            _l(
                "OPCA pupils identify with their school and enrolment, which a phone keypad "
                "cannot take: they vote on the web or at their school."
            )
        )
    return str(
        _l(
            "Delegates vote with the code printed on their slip, not with a título and a birth "
            "date: they vote on the web or at the forum."
        )
    )


def set_phone_switches(cycle: Cycle, wanted: PhoneSwitches, actor) -> bool:
    """Switch the cycle's voice line and text messages; True when something changed (and was
    audited). Refused (409) when a channel would be on for a cycle that cannot take phone votes;
    switching off is always allowed."""
    before = switches_of(cycle)
    reason = why_no_phone(cycle)
    turning_on = (wanted.voice and not before.voice) or (wanted.text and not before.text)
    if reason is not None and turning_on:
        raise Conflict(
            _l("Voting by phone cannot be switched on in this cycle. %(reason)s", reason=reason),
            code="no_phone_votes",
        )
    if wanted == before:
        return False
    cycle.phone_voice, cycle.phone_text = wanted.voice, wanted.text
    audit.record(
        actor,
        "cycle.phone",
        cycle,
        before={"phone_voice": before.voice, "phone_text": before.text},
        after={"phone_voice": wanted.voice, "phone_text": wanted.text},
    )
    db.session.commit()
    return True


@dataclass(frozen=True)
class PhoneNumbers:
    """The numbers as configured (display form, e.g. "0800 123 4567"; "" when not set)."""

    voice: str
    text: str
    has_auth_token: bool


def configured_numbers() -> PhoneNumbers:
    config = current_app.config
    return PhoneNumbers(
        voice=(config.get("PHONE_VOICE_NUMBER") or "").strip(),
        text=(config.get("PHONE_TEXT_NUMBER") or "").strip(),
        has_auth_token=bool(config.get("PHONE_AUTH_TOKEN")),
    )


def setup_problems(cycle: Cycle, numbers: PhoneNumbers | None = None) -> list[str]:
    """What keeps a channel switched on in this cycle from working (codes, in order)."""
    numbers = numbers or configured_numbers()
    on = switches_of(cycle)
    problems = []
    if on.any and not numbers.has_auth_token:
        problems.append(UNSIGNED)
    if on.voice and not numbers.voice:
        problems.append(NO_VOICE_NUMBER)
    if on.text and not numbers.text:
        problems.append(NO_TEXT_NUMBER)
    return problems


def dial_string(number: str) -> str:
    """A display number as a tel:/sms: link takes it: digits, and a leading + if any."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return ("+" + digits) if number.lstrip().startswith("+") else digits


@dataclass(frozen=True)
class PhoneOffer:
    """What a cycle's public pages say about voting by phone now."""

    voice_number: str  # "" when the line is off or has no number
    text_number: str  # "" when text messages are off or have no number
    open_now: bool  # False: the vote has not opened yet
    opens_at: datetime | None
    closes_at: datetime | None

    @property
    def voice_href(self) -> str:
        return f"tel:{dial_string(self.voice_number)}" if self.voice_number else ""

    @property
    def text_href(self) -> str:
        if not self.text_number:
            return ""
        return f"sms:{dial_string(self.text_number)}?body={START_WORD}"

    @property
    def start_word(self) -> str:
        return START_WORD


def phone_offer(cycle: Cycle, at: datetime | None = None) -> PhoneOffer | None:
    """The numbers to show on the cycle's pages: None unless the cycle can take phone votes, a
    channel with a configured number is on, and the vote is open or still to come."""
    if not takes_phone_votes(cycle):
        return None
    on, numbers = switches_of(cycle), configured_numbers()
    voice = numbers.voice if on.voice else ""
    text = numbers.text if on.text else ""
    if not (voice or text):
        return None
    at = at or now()
    window = voting_window(cycle, at)
    upcoming = (
        not window.is_open
        and window.opens_at is not None
        and at < window.opens_at
        and cycle.state in _BEFORE_THE_VOTE
    )
    if not (window.is_open or upcoming):
        return None
    return PhoneOffer(voice, text, window.is_open, window.opens_at, window.closes_at)
