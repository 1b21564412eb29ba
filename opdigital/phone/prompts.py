"""What the line says (and texts write): the dialogue's `Line`s in words.

Sentences are English msgids translated by Flask-Babel; the adapters render them in Brazilian
Portuguese (`force_locale`). Spoken prompts are short and end with what to key; the text
channel words the menus as replies ("1 choose · 2 next") and skips what only makes sense by
voice. A line without values (or with yes/no values only) is "fixed": it may be played from a
recording (`recording_name`, `opdigital phone prompts`) instead of the provider's speech.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from opdigital.formatting import money
from opdigital.phone.dialogue import Line
from opdigital.registry.services import NOT_ELIGIBLE_MESSAGE

VOICE, TEXT = "voice", "text"

# How the receipt code's characters are read out in Portuguese: by their names, so that a
# speech engine does not read "A" as a word or run "K7Q2" together.
_PORTUGUESE_NAMES = {
    "A": "á", "B": "bê", "C": "cê", "D": "dê", "E": "é", "F": "éfe", "G": "gê", "H": "agá",
    "I": "i", "J": "jota", "K": "cá", "L": "éle", "M": "ême", "N": "êne", "O": "ó", "P": "pê",
    "Q": "quê", "R": "érre", "S": "ésse", "T": "tê", "U": "u", "V": "vê", "W": "dáblio",
    "X": "xis", "Y": "ípsilon", "Z": "zê", "0": "zero", "1": "um", "2": "dois", "3": "três",
    "4": "quatro", "5": "cinco", "6": "seis", "7": "sete", "8": "oito", "9": "nove",
}  # fmt: skip


def spelled(code: str, language: str) -> str:
    """The receipt code character by character, its groups apart: "cá, sete, quê, dois; ..."."""
    groups = [group for group in code.upper().split("-") if group]
    if language.startswith("pt"):
        read = [", ".join(_PORTUGUESE_NAMES.get(ch, ch) for ch in group) for group in groups]
    else:
        read = [", ".join(group) for group in groups]
    return "; ".join(read)


_BY_NAME = {name: char for char, name in _PORTUGUESE_NAMES.items()}
_NAME = "(?:" + "|".join(re.escape(n) for n in sorted(_BY_NAME, key=len, reverse=True)) + ")"
_GROUP = rf"{_NAME}(?:, {_NAME})*"
_SPELLED = re.compile(rf"(?<!\w){_GROUP}(?:; {_GROUP})+(?!\w)")


def unspelled_codes(sentence: str) -> list[str]:
    """The codes spelled out in `sentence` ("cá, sete; ..." -> "K7-..."): `spelled` undone, for
    the simulator and the tests, which hear what a caller hears."""
    codes = []
    for match in _SPELLED.finditer(sentence):
        groups = match.group(0).split("; ")
        codes.append("-".join("".join(_BY_NAME[n] for n in g.split(", ")) for g in groups))
    return codes


def render(line: Line, channel: str, language: str = "pt_BR") -> str:
    """The line in words for `channel` ("" when the channel has nothing to say for it)."""
    values = line.values
    key = line.key
    if key in _FIXED:
        return _FIXED[key](channel)
    if key == "cycle_option":
        if channel == TEXT:
            return _("%(number)s: %(name)s", **values)
        return _("For %(name)s, press %(number)s.", **values)
    if key == "cycle_chosen":
        return _("Vote: %(name)s.", **values)
    if key == "region":
        if not values["name"]:
            return ngettext(
                "City-wide works: %(num)d work.", "City-wide works: %(num)d works.", values["count"]
            )
        return ngettext(
            "Region %(name)s: %(num)d work.",
            "Region %(name)s: %(num)d works.",
            values["count"],
            name=values["name"],
        )
    if key == "work":
        said = _(
            "Work %(number)s: %(title)s. Cost: %(cost)s.",
            number=values["number"],
            title=values["title"],
            cost=money(values["cost_cents"]),
        )
        return said + (" " + _("You have chosen this work.") if values["chosen"] else "")
    if key == "work_menu":
        return _work_menu(channel, values["chosen"])
    if key == "chosen":
        return _chosen(values)
    if key == "unchosen":
        return ngettext(
            "Work %(number)s removed. You have chosen %(num)d work.",
            "Work %(number)s removed. You have chosen %(num)d works.",
            values["count"],
            number=values["number"],
        )
    if key == "rule":
        return _rule(values)
    if key == "problem":
        return _problem(values)
    if key == "summary":
        if values["count"] == 0:
            return _("You have not chosen any work.")
        return ngettext("You chose %(num)d work:", "You chose %(num)d works:", values["count"])
    if key == "summary_work":
        return _(
            "Work %(number)s, %(title)s, %(cost)s.",
            number=values["number"],
            title=values["title"],
            cost=money(values["cost_cents"]),
        )
    if key == "summary_total":
        return _("Total: %(total)s.", total=money(values["total_cents"]))
    if key == "receipt_code":
        if channel == TEXT:
            return _(
                "Your receipt code: %(code)s. With it you can check on the ballot board of the "
                "OP website that your vote is counted.",
                code=values["code"],
            )
        return _(
            "Write down your receipt code. With it you can check on the OP website that your "
            "vote is counted. The code is: %(code)s.",
            code=spelled(values["code"], language),
        )
    if key == "receipt_again":
        if channel == TEXT:
            return ""
        return _("Once more: %(code)s.", code=spelled(values["code"], language))
    if key == "receipt_menu":
        if channel == TEXT:
            return _("Send 0 to see the code again.")
        if values["can_text"]:
            return _(
                "To hear the code again, press 0. To receive it by text message, press 1. "
                "To end, press 2 or hang up."
            )
        return _("To hear the code again, press 0. To end, press 2 or hang up.")
    if key == "rate_limited":
        return _(
            "Too many attempts were made. Please try again in %(minutes)s minutes, or vote at a "
            "public voting point.",
            minutes=values["minutes"],
        )
    raise KeyError(f"no prompt for {key!r}")


def _by_channel(voice, text=None):
    """A fixed sentence (lazily translated), worded for text messages when `text` is given."""

    def say(channel: str) -> str:
        return str(text if channel == TEXT and text is not None else voice)

    return say


def _voice_only(voice):
    """A sentence that only makes sense by voice (text messages leave it out)."""

    def say(channel: str) -> str:
        return "" if channel == TEXT else str(voice)

    return say


_FIXED = {
    "welcome": _by_channel(
        _l("Hello! This is the vote of the Participatory Budget, the OP. Your vote is secret.")
    ),
    "slower_hint": _voice_only(_l("To hear the messages more slowly, press star at any time.")),
    "slower_on": _voice_only(_l("Slower speech is on.")),
    "slower_off": _voice_only(_l("Normal speed is back.")),
    "no_vote_open": _by_channel(
        _l("There is no vote open by phone now. The dates are on the OP website. Goodbye.")
    ),
    "choose_cycle": _by_channel(
        _l("Choose the vote."), _l("Reply with the number of the vote you want to take part in:")
    ),
    "ask_titulo": _by_channel(
        _l("Key in the 12 digits of your título de eleitor."),
        _l("Send the 12 digits of your título de eleitor."),
    ),
    "titulo_format": _by_channel(_l("The título de eleitor has 12 digits.")),
    "ask_birth_date": _by_channel(
        _l(
            "Now key in your birth date in 8 digits: day, month and year. For the "
            "5th of March 1980, key 0 5 0 3 1 9 8 0."
        ),
        _l("Now send your birth date in 8 digits, day, month and year: 05031980 for 5 March 1980."),
    ),
    "birth_date_format": _by_channel(_l("That is not a valid date.")),
    "goodbye_failures": _by_channel(
        _l(
            "We are ending this call. You can call again at any time, or vote at a "
            "public voting point. Goodbye."
        ),
        _l(
            "We are ending this conversation. You can start again at any time by "
            "sending VOTAR, or vote at a public voting point."
        ),
    ),
    "identified": _by_channel(_l("Thank you. You can vote now.")),
    "keys_help": _by_channel(
        _l(
            "For each work: press 1 to choose it, 2 for the next one, 3 for the "
            "previous one, 9 to skip to the next region, 0 to repeat, and the hash "
            "key to hear your choices."
        ),
        _l(
            "For each work reply 1 to choose it, 2 for the next, 3 for the "
            "previous, 9 to skip to the next region, 0 to repeat, # for your "
            "choices. Words work too: SIM, PROXIMA, VOLTAR, PULAR, REPETIR, RESUMO. "
            "SAIR ends the conversation."
        ),
    ),
    "end_of_ballot": _by_channel(_l("That was the last work.")),
    "first_work": _by_channel(_l("This is the first work.")),
    "summary_menu": _by_channel(
        _l("To confirm your vote, press 1. To change it, press 2. To hear this again, press 0."),
        _l("Reply 1 (SIM) to confirm your vote, 2 to change it, 0 to see this again."),
    ),
    "cast_done": _by_channel(_l("Your vote has been recorded. Thank you!")),
    "receipt_texted": _by_channel(_l("The code was sent to your phone by text message.")),
    "receipt_text_failed": _by_channel(
        _l("We could not send the text message. Please write the code down.")
    ),
    "line_trouble": _by_channel(
        _l(
            "Sorry, the line has a technical problem. Please call again in a few minutes, or "
            "vote on the OP website or at a public voting point."
        ),
        _l(
            "Sorry, we have a technical problem. Please send VOTAR again in a few minutes, or "
            "vote on the OP website or at a public voting point."
        ),
    ),
    "no_works": _by_channel(_l("This ballot has no works for you. Goodbye.")),
    "no_answer": _by_channel(_l("I did not hear your answer.")),
    "invalid_key": _by_channel(
        _l("That key is not an option."), _l("I did not understand that reply.")
    ),
    "goodbye": _by_channel(
        _l("Thank you for taking part in the Participatory Budget. Goodbye!"),
        _l("Thank you for taking part in the Participatory Budget!"),
    ),
    "already_voted": lambda channel: _(
        "A vote with these credentials was already cast in this cycle."
    ),
    "voting_closed": lambda channel: _("Voting is not open in this cycle now."),
    "not_eligible": lambda channel: str(NOT_ELIGIBLE_MESSAGE),
}


def _work_menu(channel: str, chosen: bool) -> str:
    if channel == TEXT:
        if chosen:
            return _("1 remove · 2 next · 3 back · 9 skip region · 0 repeat · # my choices")
        return _("1 choose · 2 next · 3 back · 9 skip region · 0 repeat · # my choices")
    if chosen:
        return _("To remove it, press 1. Next work, 2. Previous, 3. Repeat, 0.")
    return _("To choose it, press 1. Next work, 2. Previous, 3. Repeat, 0.")


def _chosen(values: dict) -> str:
    said = [_("Work %(number)s chosen.", number=values["number"])]
    if "replaced" in values:
        said.append(_("It replaces work %(number)s.", number=values["replaced"]))
    said.append(
        ngettext("You have chosen %(num)d work.", "You have chosen %(num)d works.", values["count"])
    )
    if "left_cents" in values:
        said.append(_("Left in the budget: %(left)s.", left=money(values["left_cents"])))
    return " ".join(said)


def _rule(values: dict) -> str:
    kind, low, high = values["kind"], values["min"], values["max"]
    if kind == "one-city-wide":
        return ngettext(
            "Choose one of %(num)d works.", "Choose one of %(num)d works.", values["works"]
        )
    if kind == "one-per-region":
        return _("You may choose one work in each region.")
    if kind == "knapsack":
        if values["per_region"]:
            return _("In each region, choose works whose costs fit in that region's budget.")
        return _(
            "Choose works whose costs add up to at most %(budget)s.",
            budget=money(values["budget_cents"]),
        )
    if values["per_region"]:
        top = values["region_max"]
        if top is not None:
            return ngettext(
                "In each region, choose up to %(num)d work.",
                "In each region, choose up to %(num)d works.",
                top,
            )
        return _("Choose as many works as you like, in any region.")
    if high is not None and low == high:
        return ngettext("Choose %(num)d work.", "Choose %(num)d works.", high)
    if high is not None and low > 1:
        return _("Choose between %(low)s and %(high)s works.", low=low, high=high)
    if high is not None:
        return ngettext("Choose up to %(num)d work.", "Choose up to %(num)d works.", high)
    if low > 1:
        return ngettext("Choose at least %(num)d work.", "Choose at least %(num)d works.", low)
    return _("Choose as many works as you like.")


def _problem(values: dict) -> str:
    code = values["code"]
    region = values.get("region_name") or ""  # "": the city-wide works, which have no region
    if code == "too_many":
        return ngettext(
            "You have already chosen the most works allowed, %(num)d. To choose this one, remove "
            "another first.",
            "You have already chosen the most works allowed, %(num)d. To choose this one, remove "
            "another first.",
            values["max"],
        )
    if code == "too_many_in_region" and not region:
        return ngettext(
            "Among the city-wide works you may choose at most %(num)d work.",
            "Among the city-wide works you may choose at most %(num)d works.",
            values["max"],
        )
    if code == "too_many_in_region":
        return ngettext(
            "In region %(region)s you may choose at most %(num)d work.",
            "In region %(region)s you may choose at most %(num)d works.",
            values["max"],
            region=region,
        )
    if code == "over_budget":
        return _(
            "This work does not fit in the budget: it would go over by %(excess)s.",
            excess=money(values["excess_cents"]),
        )
    if code == "over_budget_in_region" and not region:
        return _(
            "This work does not fit in the budget of the city-wide works: it would go over by "
            "%(excess)s.",
            excess=money(values["excess_cents"]),
        )
    if code == "over_budget_in_region":
        return _(
            "This work does not fit in the budget of region %(region)s: it would go over by "
            "%(excess)s.",
            region=region,
            excess=money(values["excess_cents"]),
        )
    if code == "empty":
        return _("You have not chosen any work yet.")
    if code == "too_few":
        return ngettext(
            "Choose at least %(num)d work; you have chosen %(count)s.",
            "Choose at least %(num)d works; you have chosen %(count)s.",
            values["min"],
            count=values["count"],
        )
    if code == "too_few_in_region" and not region:
        return ngettext(
            "Among the city-wide works, choose at least %(num)d work, or none.",
            "Among the city-wide works, choose at least %(num)d works, or none.",
            values["min"],
        )
    if code == "too_few_in_region":
        return ngettext(
            "In region %(region)s, choose at least %(num)d work, or none.",
            "In region %(region)s, choose at least %(num)d works, or none.",
            values["min"],
            region=region,
        )
    if code in ("under_min_share", "under_min_share_in_region"):
        return _(
            "Your choices must add up to at least %(least)s: %(missing)s are missing.",
            least=money(values["min_cents"]),
            missing=money(values["missing_cents"]),
        )
    return _("This ballot is not valid: please correct it and try again.")


# --- Recordings -------------------------------------------------------------------------------


def recording_name(line: Line) -> str | None:
    """The file name (without extension) a recording of this line has, or None when the line
    carries values that change (a title, a number, a code): those are spoken by the provider."""
    if line.key in _FIXED and not line.values:
        return line.key
    if line.key in ("work_menu", "receipt_menu") and all(
        isinstance(v, bool) for v in line.values.values()
    ):
        flags = "-".join(k for k, v in sorted(line.values.items()) if v)
        return f"{line.key}-{flags}" if flags else line.key
    return None


def fixed_lines() -> Iterator[Line]:
    """Every line a recording can stand for (what `opdigital phone prompts` records)."""
    yield from (Line(key) for key in _FIXED)
    for chosen in (False, True):
        yield Line("work_menu", {"chosen": chosen})
    for can_text in (False, True):
        yield Line("receipt_menu", {"can_text": can_text})


def words(lines: Iterable[Line], channel: str, language: str = "pt_BR") -> list[str]:
    """The non-empty sentences of `lines` for `channel`."""
    return [said for said in (render(line, channel, language) for line in lines) if said]
