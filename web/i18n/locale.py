"""The language of a request and how a visitor chooses it.

The locale, among the languages the helpdesk has enabled (``TEMPODESK_LANGUAGES``): a page
that speaks one language (a support form's); the signed-in agent's ``User.language``; else the
``lang`` cookie that the switch on the public pages ("English | Čeština | Deutsch …") sets; else
the browser's ``Accept-Language``; else the helpdesk's default language (the first enabled).
The JSON API is always English (its messages are for integrators). Scripts get a text's
plural forms from the page (``plural_forms``), so no catalog goes to the browser.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, request, url_for
from flask_babel import Babel, get_locale, get_translations
from flask_login import current_user

from tempodesk.core import languages as codes

#: Every language of the UI, each named in itself (as a language menu shows them); a helpdesk
#: offers those it enabled (``enabled_languages``).
LANGUAGES = {
    "en": "English",
    "cs": "Čeština",
    "de": "Deutsch",
    "uk": "Українська",
    "lt": "Lietuvių",
    "el": "Ελληνικά",
    "ru": "Русский",
}
DEFAULT = codes.DEFAULT
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()
bp = Blueprint("i18n", __name__)


def enabled_codes() -> tuple[str, ...]:
    """The languages this helpdesk offers (``TEMPODESK_LANGUAGES``), its default first."""
    return tuple(current_app.extensions["tempodesk"].settings.enabled_languages)


def enabled_languages() -> dict[str, str]:
    """The enabled languages, each named in itself, for a menu."""
    return {code: LANGUAGES[code] for code in enabled_codes()}


def offered_languages(current: str = "") -> dict[str, str]:
    """What a language choice offers: the enabled languages, plus ``current`` when it is one
    no longer enabled (a saved choice is shown, not silently changed)."""
    return {code: LANGUAGES[code] for code in codes.offered(enabled_codes(), current)}


def helpdesk_language() -> str:
    return enabled_codes()[0]


def select_locale() -> str:
    if request.path.startswith("/api/"):
        return DEFAULT
    enabled = enabled_codes()
    page = g.get("page_language")  # a page that speaks one language (a support form's)
    if page in enabled:
        return str(page)
    if current_user and current_user.is_authenticated:
        language = getattr(current_user, "language", "")
        if language in enabled:
            return str(language)
    cookie = request.cookies.get(COOKIE, "")
    if cookie in enabled:
        return cookie
    return request.accept_languages.best_match(list(enabled)) or enabled[0]


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def plural_forms(singular: str, plural: str) -> str:
    """Every plural form of a text for a script, joined by "|" in the order of the language's
    plural rule (app.js picks one by the page's language; the number is ``{n}``)."""
    translations = get_translations()
    rule = getattr(translations, "plural", None)
    forms: dict[int, str] = {}
    for n in range(0, 1000):
        index = rule(n) if rule is not None else int(n != 1)
        if index not in forms:
            forms[index] = translations.ungettext(singular, plural, n)
    return "|".join(forms[i] for i in sorted(forms))


def safe_path(target: str | None, default: str) -> str:
    """A path on this site to go back to, never another site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


@bp.route("/language/<code>")
def switch(code: str) -> Any:
    """The "English | Čeština | …" links of the public pages: remember the choice (an enabled
    language) in a cookie and go back to the page (``next``, a path on this site)."""
    back = safe_path(request.args.get("next"), url_for("public.new"))
    response = redirect(back)
    if code in enabled_codes():
        response.set_cookie(
            COOKIE, code, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", path="/"
        )
    return response
