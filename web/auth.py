"""Signing agents in and out."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from tempodesk.core.models import User
from tempodesk.people import accounts
from web import audit, db, limits, runtime
from web.i18n import gettext as _
from web.i18n import lazy_gettext, safe_path

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(
        lazy_gettext("Username"),
        validators=[
            DataRequired(lazy_gettext("Enter your username.")),
            Length(max=64, message=lazy_gettext("At most %(max)s characters.")),
        ],
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[
            DataRequired(lazy_gettext("Enter your password.")),
            Length(max=200, message=lazy_gettext("At most %(max)s characters.")),
        ],
    )
    remember = BooleanField(lazy_gettext("Keep me signed in"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("desk.index"))
    form = LoginForm()
    settings = runtime().settings
    if request.method == "POST":
        # Before the password is hashed (scrypt: the expensive part) and whatever the form.
        limits.hit(settings.login_rate_limit, "login", limits.client_address())
    if form.validate_on_submit():
        username = (form.username.data or "").strip().lower()
        limits.check(settings.login_failure_limit, "login-failed", username)
        user = accounts.authenticate(db(), form.username.data or "", form.password.data or "")
        if user is None:
            limits.hit(settings.login_failure_limit, "login-failed", username)
            _audit_sign_in("sign_in.failed", username, {"step": "password"})
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        # One rule for every "go back to" (web.i18n.safe_path): a path on this site only.
        target = safe_path(request.args.get("next"), url_for("desk.index"))
        if user.totp_secret:
            session.clear()
            session[PENDING] = {
                "user": user.id,
                "remember": bool(form.remember.data),
                "next": target,
                "at": time.time(),
            }
            return redirect(url_for("auth.code"))
        return _signed_in(user, bool(form.remember.data), target)
    return render_template("auth/login.html", form=form)


def _audit_sign_in(action: str, username: str, details: dict[str, Any]) -> None:
    """Sign-ins and failed ones in the audit log (failures are rate-limited before this)."""
    audit.record(action, actor=username, object_type="user", object_id=username, after=details)
    db().commit()


#: The password was right and the second factor is still to come (in the session).
PENDING = "totp_pending"
PENDING_SECONDS = 300


def _signed_in(user: User, remember: bool, target: str) -> Any:
    _audit_sign_in(
        "sign_in", user.username, {"remember": remember, "second_factor": bool(user.totp_secret)}
    )
    # A new session at sign-in: nothing from before (a fixed session, its CSRF token)
    # carries over into the signed-in one.
    session.clear()
    login_user(user, remember=remember)
    return redirect(target)


class CodeForm(FlaskForm):
    code = StringField(
        lazy_gettext("Code from your authenticator app"),
        validators=[DataRequired(lazy_gettext("Enter the code.")), Length(max=10)],
    )


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> Any:
    """The second step for users with a second factor: the code of their authenticator app."""
    pending = session.get(PENDING)
    user = db().get(User, pending["user"]) if isinstance(pending, dict) else None
    if (
        pending is None
        or user is None
        or not user.is_active
        or time.time() - pending["at"] > PENDING_SECONDS
    ):
        session.pop(PENDING, None)
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        settings = runtime().settings
        limits.check(settings.login_failure_limit, "login-failed", user.username)
        if accounts.check_totp(user, form.code.data or "", settings.session_secret()):
            db().commit()  # the code is spent
            return _signed_in(user, pending["remember"], pending["next"])
        limits.hit(settings.login_failure_limit, "login-failed", user.username)
        _audit_sign_in("sign_in.failed", user.username, {"step": "code"})
        flash(_("The code is not right. Enter the current one."), "error")
        return render_template("auth/code.html", form=form), 401
    return render_template("auth/code.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    logout_user()
    session.clear()  # nothing of the signed-in session (its CSRF token) outlives it
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
