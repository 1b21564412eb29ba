"""What a staff password must be: 12+ characters, and hard to guess (zxcvbn score 3 or more).

zxcvbn's own feedback is English-only: the refusal names the weakness in our words, translated.
"""

from __future__ import annotations

import threading

from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

from opdigital.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 12
# zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses or more): enough for an account
# that is also behind argon2id and the sign-in limits.
MIN_PASSWORD_SCORE = 3
# zxcvbn refuses longer input (its matching grows fast with length); what the first 72
# characters resist, the whole password resists at least as well.
_CHECKED_LENGTH = 72
# zxcvbn knows English words and common passwords, not ours: these make "OPDigital2026" or
# "senha123..." as weak as they are.
_PROJECT_WORDS = (
    "opdigital",
    "orcamento",
    "participativo",
    "belohorizonte",
    "belo",
    "horizonte",
    "prefeitura",
    "pbh",
    "senha",
)
# zxcvbn keeps the words of the account being checked in a module-level dictionary while it
# runs: one check at a time per process, so two threads never mix their accounts' words.
_strength_lock = threading.Lock()


def _account_words(email: str, name: str) -> list[str]:
    """The e-mail, the name, their parts and the parts run together ("anasouza"): a password
    made of them is guessable by anyone who knows whose account it is."""
    email = email.strip().lower()
    local, _at, domain = email.partition("@")
    local_parts = local.replace("_", ".").replace("-", ".").replace("+", ".").split(".")
    name_parts = (name or "").lower().split()
    words = [email, local, "".join(local_parts), *local_parts, *domain.split(".")]
    words += [" ".join(name_parts), "".join(name_parts), *name_parts]
    return [word for word in words if word] + list(_PROJECT_WORDS)


# zxcvbn's match patterns (besides dictionary words) and what we call them; "regex" is its
# recent-year pattern.
_PATTERN_WEAKNESS = {
    "spatial": "keyboard",
    "repeat": "repeat",
    "sequence": "sequence",
    "date": "date",
    "regex": "date",
}


def _weakness(match: dict) -> str | None:
    """Our own name for the kind of weakness zxcvbn found (its feedback is English-only)."""
    if match.get("pattern") != "dictionary":
        return _PATTERN_WEAKNESS.get(match.get("pattern"))
    source = match.get("dictionary_name")
    if source == "user_inputs":
        return "local" if match.get("matched_word") in _PROJECT_WORDS else "personal"
    return "common" if source == "passwords" else "words"


# The most telling weakness first: it is the one the message names.
_WEAKNESS_ORDER = (
    "personal",
    "common",
    "local",
    "keyboard",
    "repeat",
    "sequence",
    "date",
    "words",
)


def _weakness_message(kind: str | None):
    messages = {
        "personal": _l("It contains the account's name or e-mail address."),
        "local": _l("It contains a word anyone would try here first, such as the city's name."),
        "common": _l("It is one of the most common passwords, or close to one."),
        "keyboard": _l("It follows a row or pattern of keys on the keyboard."),
        "repeat": _l("It repeats characters or groups of characters."),
        "sequence": _l("It contains an easy sequence such as abc or 1234."),
        "date": _l("It contains a date or a year."),
        "words": _l("It is made of a few common words or names."),
    }
    return messages.get(kind, _l("It is too easy to guess."))


def check_password_rules(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse a short password, or one a guessing attack would find (zxcvbn score under 3).

    The account's e-mail and name count as known words: a password built from them is weak.
    """
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            code="weak_password",
        )
    with _strength_lock:
        result = zxcvbn(password[:_CHECKED_LENGTH], user_inputs=_account_words(email, name))
    if result["score"] >= MIN_PASSWORD_SCORE:
        return
    found = {_weakness(match) for match in result["sequence"]}
    kind = next((k for k in _WEAKNESS_ORDER if k in found), None)
    raise ValidationFailed(
        _l(
            "This password is too easy to guess. %(reason)s Choose a longer one, for example "
            "four or more unrelated words.",
            reason=_weakness_message(kind),
        ),
        code="weak_password",
    )
