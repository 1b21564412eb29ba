"""Staff accounts: creation, password checks (argon2id), role and activation changes."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from zxcvbn import zxcvbn

from opdigital.accounts.models import Role, User
from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.errors import Conflict, NotFound, ValidationFailed
from opdigital.extensions import db

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

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


@dataclass(frozen=True)
class NewUser:
    email: str
    password: str
    role: str
    name: str = ""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _account_words(email: str, name: str) -> list[str]:
    """The e-mail, the name, their parts and the parts run together ("anasouza"): a password
    made of them is guessable by anyone who knows whose account it is."""
    email = normalise_email(email)
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


def create_user(data: NewUser, actor: User | None = None) -> User:
    """Create a staff account; refuses a duplicate e-mail or an unknown role."""
    if data.role not in {r.value for r in Role}:
        raise ValidationFailed(_l("Choose one of the listed roles."), code="unknown_role")
    email = normalise_email(data.email)
    if "@" not in email:
        raise ValidationFailed(_l("Enter a valid e-mail address."), code="invalid_email")
    check_password_rules(data.password, email=email, name=data.name)
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role,
        password_hash=hash_password(data.password),
    )
    db.session.add(user)
    try:
        db.session.flush()
        audit.record(actor, "user.create", user, after={"email": email, "role": data.role})
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise Conflict(
            _l("An account with this e-mail already exists."), code="duplicate_email"
        ) from e
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None. Timing does not reveal which."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user else _DUMMY_HASH
    try:
        _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now()
    audit.record(user, "user.login", user)
    db.session.commit()
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such account."))
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.email)))


def update_user(user: User, *, role: str, active: bool, name: str, actor: User) -> User:
    """Change an account's role, name or activation. Admins cannot lock themselves out."""
    if role not in {r.value for r in Role}:
        raise ValidationFailed(_l("Choose one of the listed roles."), code="unknown_role")
    if user.id == actor.id and (role != Role.ADMIN or not active):
        raise Conflict(_l("You cannot remove your own administrator access."), code="self_lockout")
    before = {"role": user.role, "active": user.active, "name": user.name}
    if role != user.role or (user.active and not active):
        # A new role or a disabled account applies at once, not at the next sign-in.
        user.end_sessions()
    user.role, user.active, user.name = role, active, name.strip()
    audit.record(
        actor,
        "user.update",
        user,
        before=before,
        after={"role": role, "active": active, "name": user.name},
    )
    db.session.commit()
    return user


def set_password(user: User, password: str, actor: User) -> None:
    """Give the account a new password; every session signed in with the old one ends."""
    check_password_rules(password, email=user.email, name=user.name)
    user.password_hash = hash_password(password)
    user.end_sessions()
    audit.record(actor, "user.set_password", user)
    db.session.commit()


def record_logout(user: User) -> None:
    """Sign the account out everywhere (every browser, every copied cookie) and audit it."""
    user.end_sessions()
    audit.record(user, "user.logout", user)
    db.session.commit()
