"""The customer's profile ("my profile"): name, language and whether they welcome
non-essential mail (templates an admin marks non-essential; everything about their
requests still arrives). The email address is not changed here."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from tempodesk.core.limits import max_chars
from tempodesk.core.models import Contact
from tempodesk.people import portal_passwords
from tempodesk.people.contacts import save_preferences
from web import db
from web.i18n import COOKIE, COOKIE_MAX_AGE, LANGUAGES, N_, lazy_gettext, offered_languages
from web.i18n import gettext as _
from web.portal.common import bp, signed_in_contact, start_session, to_sign_in


class ProfileForm(FlaskForm):
    name = StringField(
        lazy_gettext("Your name"),
        validators=[
            Length(max=max_chars(Contact.name), message=lazy_gettext("At most %(max)s characters."))
        ],
    )
    language = SelectField(
        lazy_gettext("Language"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()],  # narrowed
    )
    non_essential_mail = BooleanField(
        lazy_gettext("Also send me non-essential mail (not about my requests)")
    )


class PasswordForm(FlaskForm):
    """Set (or change) the portal password; its fields are prefixed ``pw-``."""

    password = PasswordField(lazy_gettext("New password"))
    repeat = PasswordField(lazy_gettext("New password again"))


PASSWORD_PROBLEMS = {
    "short": N_("At least 10 characters."),
    "long": N_("At most 200 characters."),
    "control": N_("No control characters (such as a line break or NUL)."),
    "differ": N_("The two passwords differ."),
}


class RemovePasswordForm(FlaskForm):
    """The "remove my password" button (its CSRF token is all it carries)."""


def _page(contact: Contact, form: ProfileForm, password_form: PasswordForm | None = None) -> str:
    return render_template(
        "portal/profile.html",
        contact=contact,
        form=form,
        password_form=password_form or PasswordForm(formdata=None, prefix="pw"),
        remove_form=RemovePasswordForm(formdata=None, prefix="rm"),
        has_password=bool(contact.password_hash),
    )


@bp.route("/profile/password", methods=["POST"])
def password() -> Any:
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        new = form.password.data or ""
        problem = portal_passwords.password_problem(new)
        if problem is None and new != form.repeat.data:
            problem = "differ"
        if problem is None:
            portal_passwords.set_password(contact, new)
            db().commit()
            start_session(contact)  # this session goes on; the others end
            flash(_("Your password is set. Other sessions are signed out."), "info")
            return redirect(url_for("portal.profile"), 303)
        form.password.errors = [_(PASSWORD_PROBLEMS[problem])]
    return _page(contact, ProfileForm(obj=contact), form), 422


@bp.route("/profile/password/remove", methods=["POST"])
def remove_password() -> Any:
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    if not RemovePasswordForm(prefix="rm").validate_on_submit():
        return _page(contact, ProfileForm(obj=contact)), 422
    portal_passwords.remove_password(contact)
    db().commit()
    start_session(contact)
    flash(_("Your password is removed: you sign in by a link sent to you."), "info")
    return redirect(url_for("portal.profile"), 303)


@bp.route("/profile", methods=["GET", "POST"])
def profile() -> Any:
    contact = signed_in_contact()
    if contact is None:
        return to_sign_in()
    form = ProfileForm(obj=contact)
    form.language.choices = [  # the enabled languages (and the one they have)
        SelectChoice(code, label) for code, label in offered_languages(contact.language).items()
    ]
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
    return _page(contact, form), status
