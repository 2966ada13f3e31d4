"""The agent's own profile: their name and the language the desk speaks to them."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.core.models import User
from tempodesk.people import users
from tempodesk.tickets import ratings
from web import db
from web.desk.common import bp
from web.i18n import force_locale, offered_languages
from web.i18n import gettext as _


@bp.route("/profile", methods=["GET", "POST"])
def profile() -> Any:
    """The agent's own name and the language of the desk (the top bar links here)."""
    session = db()
    user = session.get(User, current_user.id)
    if user is None:
        abort(404)
    errors: dict[str, str] = {}
    values = {"display_name": user.display_name, "language": user.language}
    if request.method == "POST":
        values = {
            "display_name": request.form.get("display_name", ""),
            "language": request.form.get("language", ""),
        }
        try:
            users.update_profile(
                session,
                user,
                display_name=values["display_name"],
                language=values["language"],
                languages=tuple(offered_languages(user.language)),
            )
        except users.AccountInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            # The page after the redirect speaks the new language; this message too.
            with force_locale(user.language):
                flash(_("Your profile is saved."), "success")
            return redirect(url_for("desk.profile"))
    return (
        render_template(
            "desk/profile.html",
            values=values,
            errors=errors,
            language_names=offered_languages(user.language),
            figures=ratings.agent_figures(session, user.username).get(user.username),
        ),
        422 if errors else 200,
    )
