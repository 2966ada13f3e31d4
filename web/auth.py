"""Signing agents in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from tempodesk.people import accounts
from web import db
from web.i18n import gettext as _
from web.i18n import lazy_gettext

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


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("desk.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("desk.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("desk.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db(), form.username.data or "", form.password.data or "")
        if user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user, remember=bool(form.remember.data))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
