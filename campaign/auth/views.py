"""Login, logout, one's own account and tokens; admins manage staff."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from campaign.auth import services
from campaign.auth.forms import LoginForm, PasswordForm, TokenForm, UserCreateForm, UserEditForm
from campaign.auth.models import ApiToken
from campaign.auth.roles import public, requires
from campaign.core.errors import ServiceError
from campaign.core.forms import ConfirmForm, attach_error
from campaign.core.urls import safe_next
from campaign.extensions import db, limiter

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.LoginRefused as refused:
            form.form_errors.append(refused.message)
            g.keep_changes = True  # the failure counts towards the lockout
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        return redirect(safe_next(request.args.get("next")) or url_for("cases.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@requires("viewer")
def logout():
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
            login_user(user)  # this session carries the new epoch
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
    if ConfirmForm().validate_on_submit():
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
    return render_template("auth/user_edit.html", user=user, form=form), status
