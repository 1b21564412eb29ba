"""Routes of the accounts blueprint (registered on `bp` from the package)."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from opdigital.accounts import login_limits
from opdigital.accounts import services as accounts
from opdigital.accounts.forms import EditUserForm, LoginForm, NewUserForm, PasswordForm
from opdigital.accounts.models import Role, User
from opdigital.accounts.passwords import MIN_PASSWORD_LENGTH
from opdigital.accounts.views import bp
from opdigital.auth import is_safe_local_url, roles_required
from opdigital.clock import now
from opdigital.errors import DomainError
from opdigital.extensions import limiter
from opdigital.web import is_read

# Which form field a service error belongs to, so it is shown next to that field.
_FIELDS = {
    "duplicate_email": "email",
    "invalid_email": "email",
    "weak_password": "password",
    "region_required": "region",
    "unknown_region": "region",
}


@bp.context_processor
def _password_rules() -> dict:
    return {"min_password_length": MIN_PASSWORD_LENGTH}


def home_for(user: User) -> str:
    """Where a staff member lands after signing in."""
    if user.has_role(Role.POLL_WORKER):
        return url_for("polling.dashboard")
    if user.has_role(Role.AUDITOR):
        return url_for("audit.log")
    if user.has_role(Role.PRIVACY_OFFICER):
        return url_for("subject_requests.queue")
    if user.has_role(Role.MONITOR):
        return url_for("works.comforca_home")
    return url_for("coordination.dashboard")


def _login_page(form: LoginForm, next_url: str | None, status: int = 200, error: str = ""):
    html = render_template("accounts/login.html", form=form, next_url=next_url, error=error)
    return html, status


def _locked_response(lock: login_limits.Lock):
    retry_at = now() + timedelta(seconds=lock.retry_after)
    response = make_response(
        render_template(
            "accounts/locked.html",
            retry_after=lock.retry_after,
            retry_at=retry_at,
            from_many_places=lock.reason == "credential",
        ),
        429,
    )
    response.headers["Retry-After"] = str(lock.retry_after)
    return response


def _start_new_session() -> None:
    """Drop whatever the session held before sign-in, keeping only the language chosen.

    The session lives in a signed cookie, so anything planted in the browser beforehand (a
    voter's place in the flow, a value set by someone else at a shared kiosk) must not be
    carried into the staff member's signed-in session.
    """
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def login():
    """Sign in with e-mail and password; limited per IP and per account."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    next_url = request.args.get("next")
    if not is_safe_local_url(next_url):
        next_url = None
    form = LoginForm()
    if is_read():
        return _login_page(form, next_url)
    if not form.validate():
        return _login_page(form, next_url, 422)

    email = form.email.data
    attempt = login_limits.begin_sign_in(email)
    if attempt.lock is not None:
        return _locked_response(attempt.lock)
    user = login_limits.authenticate_counted(attempt, email, form.password.data)
    if user is None:
        # One message whatever went wrong, so the form does not reveal which accounts exist.
        error = _("The e-mail or password is not correct, or the account is disabled.")
        return _login_page(form, next_url, 401, error)
    if user.has_role(Role.POLL_WORKER) and not (next_url or "").startswith("/mesario"):
        next_url = None  # a poll worker's only pages are their point's (polling)
    if user.has_role(Role.MONITOR) and not (next_url or "").startswith("/comforca"):
        next_url = None  # a Comforça member's only staff pages are their region's (works)
    _start_new_session()
    login_user(user)
    flash(_("You are signed in."), "success")
    return redirect(next_url or home_for(user))


@bp.post("/logout")
def logout():
    """Sign out of every browser at once (POST with a CSRF token, so no link can do it).

    The account's session token changes, so any other browser, or a copy of the cookie taken
    before, is signed out too: a staff member who forgot to sign out elsewhere can end it here.
    """
    if current_user.is_authenticated:
        accounts.record_logout(current_user._get_current_object())
        logout_user()
        flash(_("You have signed out."), "success")
    return redirect(url_for("public.home"))


@bp.get("/staff/accounts")
@roles_required(Role.ADMIN)
def list_users():
    """Every staff account with its role, state and last sign-in."""
    return render_template("accounts/list.html", users=accounts.list_users())


@bp.route("/staff/accounts/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create_user():
    """Create a staff account."""
    form = NewUserForm()
    if is_read():
        return render_template("accounts/new.html", form=form)
    if not form.validate():
        return render_template("accounts/new.html", form=form), 422
    data = accounts.NewUser(
        email=form.email.data,
        password=form.password.data,
        role=form.role.data,
        name=form.name.data or "",
        region=form.region.data or "",
    )
    try:
        user = accounts.create_user(data, actor=current_user._get_current_object())
    except DomainError as e:
        error = _attach_error(form, e)
        return render_template("accounts/new.html", form=form, error=error), 422
    flash(_("Account %(email)s created.", email=user.email), "success")
    return redirect(url_for("accounts.list_users"))


def _attach_error(form, error: DomainError) -> str:
    """Show a service error next to its field; return it when it belongs to no field."""
    field = _FIELDS.get(error.code)
    if field and field in form:
        form[field].errors = [*form[field].errors, str(error)]
        return ""
    return str(error)


def _edit_form(user: User, **kwargs) -> EditUserForm:
    """The edit form filled in from the account (a Comforça member's region by its slug)."""
    values = {
        "name": user.name,
        "role": user.role,
        "active": user.active,
        "region": user.region.slug if user.region else "",
    }
    return EditUserForm(data=values, **kwargs)


def _edit_page(
    user: User,
    form: EditUserForm,
    password_form: PasswordForm,
    status: int = 200,
    error: str = "",
):
    html = render_template(
        "accounts/edit.html", user=user, form=form, password_form=password_form, error=error
    )
    return html, status


@bp.route("/staff/accounts/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    """Change an account's name, role or activation."""
    user = accounts.get_user(user_id)
    if user.is_poll_worker:
        # Bound to a point and a cycle: managed on the point's page, never by a role change.
        flash(_("Poll workers are managed on their voting point's page."), "info")
        return redirect(url_for("coordination.poll_workers", point_id=user.voting_point_id), 303)
    form = _edit_form(user)
    password_form = PasswordForm(prefix="pw", formdata=None)
    if is_read():
        return _edit_page(user, form, password_form)
    if not form.validate():
        return _edit_page(user, form, password_form, 422)
    try:
        accounts.update_user(
            user,
            role=form.role.data,
            active=form.active.data,
            name=form.name.data or "",
            actor=current_user._get_current_object(),
            region=form.region.data or "",
        )
    except DomainError as e:
        return _edit_page(user, form, password_form, e.status, _attach_error(form, e))
    flash(_("Account %(email)s updated.", email=user.email), "success")
    return redirect(url_for("accounts.list_users"))


@bp.post("/staff/accounts/<int:user_id>/password")
@roles_required(Role.ADMIN)
def set_password(user_id: int):
    """Give an account a new password; that account is signed out of every browser."""
    user = accounts.get_user(user_id)
    password_form = PasswordForm(prefix="pw")
    form = _edit_form(user, formdata=None)
    if not password_form.validate():
        return _edit_page(user, form, password_form, 422)
    actor = current_user._get_current_object()
    try:
        accounts.set_password(user, password_form.password.data, actor)
    except DomainError as e:
        return _edit_page(user, form, password_form, 422, _attach_error(password_form, e))
    if user.id == actor.id:
        # An admin who changed their own password keeps this session (with the new token);
        # every other one ends.
        login_user(user)
    flash(_("The password of %(email)s was changed.", email=user.email), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))
