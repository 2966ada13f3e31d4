"""The customer's profile ("my profile"): name, language and whether they welcome
non-essential mail (templates an admin marks non-essential; everything about their
requests still arrives). The email address is not changed here."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from tempodesk.core.limits import max_chars
from tempodesk.core.models import Contact
from tempodesk.people.contacts import save_preferences
from web import db
from web.i18n import COOKIE, COOKIE_MAX_AGE, LANGUAGES, lazy_gettext
from web.i18n import gettext as _
from web.portal.common import bp, signed_in_contact, to_sign_in


class ProfileForm(FlaskForm):
    name = StringField(
        lazy_gettext("Your name"),
        validators=[
            Length(max=max_chars(Contact.name), message=lazy_gettext("At most %(max)s characters."))
        ],
    )
    language = SelectField(
        lazy_gettext("Language"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()],
    )
    non_essential_mail = BooleanField(
        lazy_gettext("Also send me non-essential mail (not about my requests)")
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile() -> Any:
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    form = ProfileForm(obj=contact)
    if form.validate_on_submit():
        language = form.language.data or "en"
        errors = save_preferences(
            db(),
            contact,
            name=form.name.data or "",
            language=language,
            non_essential_mail=bool(form.non_essential_mail.data),
        )
        if not errors:
            db().commit()
            flash(_("Your profile is saved."), "info")
            response = redirect(url_for("portal.profile"), 303)
            response.set_cookie(
                COOKIE, language, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax"
            )
            return response
        db().rollback()
        form.name.errors = [*form.name.errors, *errors.values()]
    status = 422 if form.is_submitted() else 200
    return render_template("portal/profile.html", contact=contact, form=form), status
