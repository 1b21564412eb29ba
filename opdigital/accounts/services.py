"""Staff accounts: creation, password hashes (argon2id), role and activation changes."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from opdigital.accounts.models import Role, User
from opdigital.accounts.passwords import check_password_rules
from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.errors import Conflict, NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.regions.models import Region

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
# Its password is no one's, and nothing depends on its salt being secret: it is written out here
# because hashing it at import cost every process start (each worker, each command) 90 ms.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$RfIiyAoAvnjtFWtuLNtVyg$"
    "GWn3FNqdyGY4B/yAfXMkDSgpJWQVNDY9g7GGEU0fkGA"
)


@functools.cache
def dummy_hash() -> str:
    """`_DUMMY_HASH`, or one made with the hasher's parameters should they ever differ from it
    (a cheaper verification would tell an unknown e-mail apart)."""
    if _hasher.check_needs_rehash(_DUMMY_HASH):
        return _hasher.hash("not-a-real-password")
    return _DUMMY_HASH


@dataclass(frozen=True)
class NewUser:
    email: str
    password: str
    role: str
    name: str = ""
    # A Comforça member's region (its slug): required for monitors, ignored for other roles.
    region: str = ""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(data: NewUser, actor: User | None = None) -> User:
    """Create a staff account; refuses a duplicate e-mail or an unknown role."""
    if data.role not in {r.value for r in Role}:
        raise ValidationFailed(_l("Choose one of the listed roles."), code="unknown_role")
    email = normalise_email(data.email)
    if "@" not in email:
        raise ValidationFailed(_l("Enter a valid e-mail address."), code="invalid_email")
    region = _region_for(data.role, data.region)
    check_password_rules(data.password, email=email, name=data.name)
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role,
        password_hash=hash_password(data.password),
        region_id=region.id if region else None,
    )
    db.session.add(user)
    after = {"email": email, "role": data.role} | ({"region": region.slug} if region else {})
    try:
        db.session.flush()
        audit.record(actor, "user.create", user, after=after)
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise Conflict(
            _l("An account with this e-mail already exists."), code="duplicate_email"
        ) from e
    return user


def _region_for(role: str, slug: str | None) -> Region | None:
    """The region of an account with `role`: a monitor's is required (a Comforça member
    follows one region), other roles have none (whatever was chosen is dropped)."""
    if role != Role.MONITOR:
        return None
    if not slug:
        raise ValidationFailed(
            _l("Choose the region this Comforça member follows."), code="region_required"
        )
    region = db.session.scalar(sa.select(Region).where(Region.slug == slug))
    if region is None:
        raise ValidationFailed(
            _l("There is no region called %(slug)s.", slug=slug), code="unknown_region"
        )
    return region


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None. Timing does not reveal which."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user else dummy_hash()
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
    return list(
        db.session.scalars(sa.select(User).options(selectinload(User.region)).order_by(User.email))
    )


def update_user(
    user: User, *, role: str, active: bool, name: str, actor: User, region: str = ""
) -> User:
    """Change an account's role, name, activation or (for a Comforça member) region. Admins
    cannot lock themselves out."""
    if role not in {r.value for r in Role}:
        raise ValidationFailed(_l("Choose one of the listed roles."), code="unknown_role")
    if user.id == actor.id and (role != Role.ADMIN or not active):
        raise Conflict(_l("You cannot remove your own administrator access."), code="self_lockout")
    new_region = _region_for(role, region)
    region_id = new_region.id if new_region else None
    before = {"role": user.role, "active": user.active, "name": user.name}
    after = {"role": role, "active": active, "name": name.strip()}
    if user.region_id is not None or region_id is not None:
        # Only a monitor's entries name a region (the other roles have none).
        old_region = db.session.get(Region, user.region_id) if user.region_id else None
        before["region"] = old_region.slug if old_region else None
        after["region"] = new_region.slug if new_region else None
    if role != user.role or (user.active and not active) or region_id != user.region_id:
        # A new role, region or a disabled account applies at once, not at the next sign-in.
        user.end_sessions()
    user.role, user.active, user.name, user.region_id = role, active, name.strip(), region_id
    audit.record(actor, "user.update", user, before=before, after=after)
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
