"""Login, logout, one's own account and tokens; admins manage staff."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from campaign.auth import services, throttle, twofactor
from campaign.auth.forms import (
    CodeForm,
    LoginForm,
    PasswordForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from campaign.auth.models import ApiToken
from campaign.core.errors import ServiceError
from campaign.core.forms import ConfirmForm, attach_error, confirmed
from campaign.core.roles import public, requires
from campaign.core.urls import safe_next
from campaign.extensions import db, limiter

bp = Blueprint("auth", __name__)
PENDING_2FA_SECONDS = 300


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data
        device = throttle.device_for(email, request.cookies.get(throttle.DEVICE_COOKIE))
        try:
            user = services.authenticate(
                email, form.password.data, ip=request.remote_addr, device=device
            )
        except services.LoginRefused as refused:
            form.form_errors.append(refused.message)
            g.keep_changes = True  # the failure counts towards the backoff
            return render_template("auth/login.html", form=form), refused.status
        target = safe_next(request.args.get("next")) or url_for("core.home")
        if user.has_2fa:
            # The password was right; the session holds only this pending step.
            session["2fa_pending"] = {"user": user.id, "epoch": user.session_epoch,
                                      "next": target, "at": time.time()}  # fmt: skip
            return redirect(url_for("auth.verify_2fa"))
        services.start_session(user)
        login_user(user)
        return _known_device(redirect(target), user)
    return render_template("auth/login.html", form=form)


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@public
def verify_2fa():
    pending = session.get("2fa_pending") or {}
    user = services.get_user(pending.get("user", 0))
    fresh = time.time() - pending.get("at", 0) < PENDING_2FA_SECONDS
    if user is None or not fresh or user.session_epoch != pending.get("epoch"):
        session.pop("2fa_pending", None)
        flash("Log in again.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        device = throttle.device_for(user.email, request.cookies.get(throttle.DEVICE_COOKIE))
        try:
            services.second_factor(user, form.code.data, ip=request.remote_addr, device=device)
        except services.LoginRefused as refused:
            form.code.errors.append(refused.message)
            g.keep_changes = True  # the failure counts towards the backoff
            return render_template("auth/verify.html", form=form), refused.status
        session.pop("2fa_pending", None)
        services.start_session(user)
        login_user(user)
        target = safe_next(pending.get("next")) or url_for("core.home")
        return _known_device(redirect(target), user)
    return render_template("auth/verify.html", form=form)


def _known_device(response, user):
    """Remember this browser for the account: its logins skip the backoff that
    strangers' failures put on the account (campaign/auth/throttle.py)."""
    cookie = throttle.new_device_cookie(user.email, request.cookies.get(throttle.DEVICE_COOKIE))
    config = current_app.config
    response.set_cookie(
        throttle.DEVICE_COOKIE, cookie, max_age=throttle.DEVICE_DAYS * 86400, httponly=True,
        secure=config["SESSION_COOKIE_SECURE"], samesite="Lax",
    )  # fmt: skip
    return response


@bp.before_app_request
def require_2fa():
    """Roles that must use two factors are sent to set them up before anything else."""
    user = current_user
    if not user.is_authenticated or user.has_2fa or not twofactor.required_for(user):
        return None
    view = current_app.view_functions.get(request.endpoint)
    public = view is not None and getattr(view, "required_role", "x") is None
    audience = getattr(view, "supporter_page", None)
    if callable(audience) and not audience():
        public = False  # "/" is public for visitors only: staff get the dashboard there
    if request.endpoint in ("auth.setup_2fa", "auth.logout", "static") or public:
        return None
    if request.path.startswith("/api/"):
        return None  # bearer tokens were created after a two-factor login
    flash("Your role needs two-factor authentication. Set it up to continue.", "info")
    return redirect(url_for("auth.setup_2fa"))


@bp.route("/account/2fa", methods=["GET", "POST"])
@requires("viewer")
def setup_2fa():
    user = current_user._get_current_object()
    form = CodeForm()
    # One secret until it is confirmed: a reload must not void a code already scanned.
    pending = session.get("2fa_secret")
    if not isinstance(pending, dict) or pending.get("user") != user.id:
        pending = session["2fa_secret"] = {"user": user.id, "secret": twofactor.new_secret()}
    secret = pending["secret"]
    if form.validate_on_submit():
        try:
            codes = twofactor.enable(user, user, secret, form.code.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            session.pop("2fa_secret", None)
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = twofactor.provisioning_uri(user, secret)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/setup_2fa.html", form=form, secret=secret, qr=Markup(twofactor.qr_svg(uri)),  # noqa: S704 - segno's own SVG
        required=twofactor.required_for(user),
        codes_left=twofactor.remaining_recovery_codes(user) if user.has_2fa else 0,
    ), status  # fmt: skip


@bp.post("/logout")
@requires("viewer")
def logout():
    services.end_session(current_user.get_id())
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET"])
@requires("viewer")
def account():
    return render_template(
        "auth/account.html",
        password_form=PasswordForm(),
        token_form=TokenForm(),
        tokens=services.tokens_of(current_user),
        confirm=ConfirmForm(),
        new_token=None,
    )


@bp.post("/account/password")
@requires("viewer")
def change_password():
    form = PasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            services.change_own_password(user, form.current.data, form.password.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            services.start_session(user)  # every session ended: this one goes on anew
            login_user(user)
            flash("Password changed. Your other sessions have been logged out.", "success")
            return redirect(url_for("auth.account"))
    return _account_with(password_form=form), 422


@bp.post("/account/tokens")
@requires("viewer")
def create_token():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _token, plain = services.create_token(current_user, current_user, form.name.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            return _account_with(new_token=plain)
    return _account_with(token_form=form), 422


@bp.post("/account/tokens/<int:token_id>/revoke")
@requires("viewer")
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if confirmed("The token was not revoked"):
        services.revoke_token(current_user, token)
        flash(f"Token “{token.name}” revoked.", "success")
    return redirect(url_for("auth.account"))


def _account_with(**overrides):
    context = {
        "password_form": PasswordForm(formdata=None),
        "token_form": TokenForm(formdata=None),
        "tokens": services.tokens_of(current_user),
        "confirm": ConfirmForm(),
        "new_token": None,
    }
    context.update(overrides)
    return render_template("auth/account.html", **context)


# --- admins ---------------------------------------------------------------


@bp.get("/admin/users")
@requires("admin")
def users():
    return render_template("auth/users.html", users=services.list_users(), form=UserCreateForm())


@bp.post("/admin/users")
@requires("admin")
def create_user():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                current_user, form.email.data, form.role.data, form.password.data, form.name.data
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(f"Account created for {user.email}.", "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/users.html", users=services.list_users(), form=form), 422


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires("admin")
def edit_user(user_id: int):
    user = services.get_user(user_id) or abort(404)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            services.update_user(
                current_user,
                user,
                role=form.role.data,
                name=form.name.data or "",
                active=form.active.data,
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("auth.users"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "auth/user_edit.html", user=user, form=form, confirm=ConfirmForm(),
        sessions=services.open_sessions(user),
    ), status  # fmt: skip


@bp.post("/admin/users/<int:user_id>/sign-out")
@requires("admin")
def sign_out_everywhere(user_id: int):
    user = services.get_user(user_id) or abort(404)
    if confirmed("Nobody was signed out"):
        count = services.sign_out_everywhere(current_user, user)
        if user.id == current_user.id:
            logout_user()
        flash(f"{user.email} is signed out everywhere ({count} sessions ended).", "success")
    return redirect(url_for("auth.edit_user", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/reset-2fa")
@requires("admin")
def reset_2fa(user_id: int):
    user = services.get_user(user_id) or abort(404)
    if confirmed("Two-factor authentication was not reset"):
        twofactor.reset(current_user, user)
        flash(f"Two-factor authentication reset for {user.email}: they enrol again.", "success")
    return redirect(url_for("auth.edit_user", user_id=user.id))
