"""Failed sign-ins: per address and account, and per account from anywhere (a ceiling).

See `opdigital.attempt_limits` for how attempts are counted. A correct password from an address
that has not itself been failing is accepted, whatever others sent for the account, up to the
account's ceiling (`LOGIN_FAILURES_PER_ACCOUNT`), set far above anyone's mistakes: so no one can
keep a coordinator from signing in by typing wrong passwords for their e-mail. Every sign-in
request also counts per address (`LOGIN_LIMIT_PER_IP`, Flask-Limiter, on the view).
"""

from __future__ import annotations

from opdigital.accounts.models import User
from opdigital.accounts.services import authenticate, normalise_email
from opdigital.attempt_limits import Attempt, FailureLimit, Lock, begin
from opdigital.networks import client_group

__all__ = ["Attempt", "Lock", "authenticate_counted", "begin_sign_in"]

_PER_ADDRESS_AND_ACCOUNT = FailureLimit(
    "login-address-account", "LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT", forgiven=True
)
_PER_ACCOUNT = FailureLimit("login-account", "LOGIN_FAILURES_PER_ACCOUNT", ceiling=True)


def begin_sign_in(email: str) -> Attempt:
    """Count a sign-in attempt for this e-mail from the current request's address (or its IPv6
    network); the password is checked, through `authenticate_counted`, only when `attempt.lock`
    is None."""
    account = normalise_email(email)
    return begin(
        [
            (_PER_ADDRESS_AND_ACCOUNT, f"{client_group()}\x00{account}"),
            (_PER_ACCOUNT, account),
        ]
    )


def authenticate_counted(attempt: Attempt, email: str, password: str) -> User | None:
    """`accounts.services.authenticate` under a counted attempt: a wrong password (or unknown
    or disabled account) is counted as a failure; a success, or an error, is not."""
    try:
        user = authenticate(email, password)
    except BaseException:
        attempt.succeeded()
        raise
    if user is None:
        attempt.failed()
    else:
        attempt.succeeded()
    return user
