"""An admin's second factor (TOTP), set up and turned off from their profile."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from tempodesk.core.models import User
from tempodesk.people import accounts
from web import audit, db, runtime
from web.desk.common import bp
from web.i18n import gettext as _

#: The secret being set up, kept in the session until a code from the app confirms it.
SETUP = "totp_setup"


def _admin() -> User:
    user = db().get(User, current_user.id)
    if user is None or not user.is_admin:
        abort(403)
    return user


@bp.route("/profile/totp", methods=["POST"])
def totp_setup() -> Any:
    """A new secret to add to an authenticator app (shown once, with its otpauth:// link)."""
    user = _admin()
    secret = accounts.new_totp_secret()
    session[SETUP] = secret
    return _setup_page(user, secret)


def _setup_page(user: User, secret: str, error: str = "") -> Any:
    page = render_template(
        "desk/totp_setup.html", secret=secret, uri=accounts.totp_uri(user, secret), error=error
    )
    return page, 422 if error else 200


@bp.route("/profile/totp/confirm", methods=["POST"])
def totp_confirm() -> Any:
    """Turn the second factor on once a code from the app matches the new secret."""
    user = _admin()
    secret = session.get(SETUP)
    if not secret:
        return redirect(url_for("desk.profile"))
    code = request.form.get("code", "")
    if not accounts.enable_totp(user, secret, code, runtime().settings.session_secret()):
        return _setup_page(user, secret, _("The code is not right. Enter the current one."))
    _audit(user, enabled=True)
    db().commit()
    session.pop(SETUP, None)
    flash(_("Two-step sign-in is on: signing in asks for a code from your app."), "success")
    return redirect(url_for("desk.profile"))


@bp.route("/profile/totp/disable", methods=["POST"])
def totp_disable() -> Any:
    """Turn the second factor off (a current code proves it is really the admin)."""
    user = _admin()
    if accounts.disable_totp(
        user, request.form.get("code", ""), runtime().settings.session_secret()
    ):
        _audit(user, enabled=False)
        db().commit()
        flash(_("Two-step sign-in is off."), "info")
    else:
        flash(_("The code is not right. Enter the current one."), "error")
    return redirect(url_for("desk.profile"))


def _audit(user: User, *, enabled: bool) -> None:
    audit.record(
        "user.totp_enable" if enabled else "user.totp_disable",
        object_type="user",
        object_id=user.username,
        before={"second_factor": not enabled},
        after={"second_factor": enabled},
    )
