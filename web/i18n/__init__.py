"""The web UI in the agent's language (Flask-Babel): the locale, the language switch of the
public pages, and translations of texts made by the pure modules.

- **The locale** of a request: the signed-in agent's ``User.language``; else the ``lang``
  cookie the switch on public pages sets; else the browser's ``Accept-Language``; else
  English. The JSON API is always English (its messages are for integrators).
- **Texts from the pure modules** (``statemachines``, ``tempodesk``: field errors, intake
  errors, built-in list names, priorities, the workflow's rejections) are English and must
  stay free of Flask. They are translated where the web shows them, by ``translate_message``
  (the template filter ``msg``): the English text is the msgid. The msgids are listed in
  ``texts`` with ``N_`` so that extraction finds them; one with ``%(name)s`` placeholders
  also matches the text with anything in their place (``At most %(max)s characters.``
  matches "At most 200 characters."). A text nobody listed is shown as it is (English).

A module per concern: ``locale`` (the request's language among the enabled ones, the
switch, plural forms for scripts), ``texts`` (the tables of texts the pure modules make),
``processes`` (the texts of the shipped process definitions and their Babel extractor),
``translate`` (a pure module's text in the request's language), ``labels`` (a definition's
texts in the viewer's language: a per-language mapping along the fallback chain, else the
catalog) and ``formats`` (dates, numbers and money in the locale). Import the names from
here (``from web.i18n import gettext as _``); ``babel.cfg`` names the extractor
``web.i18n:extract_process``.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale, gettext, lazy_gettext, ngettext

from web.i18n.formats import format_money, format_number, format_when
from web.i18n.labels import label_order, spec_text, state_text
from web.i18n.locale import (
    COOKIE,
    COOKIE_MAX_AGE,
    DEFAULT,
    LANGUAGES,
    babel,
    bp,
    current_language,
    enabled_codes,
    enabled_languages,
    helpdesk_language,
    offered_languages,
    plural_forms,
    safe_path,
    select_locale,
    switch,
)
from web.i18n.processes import extract_process, process_texts
from web.i18n.texts import (
    CATEGORY_LABELS,
    FIELD_TYPE_LABELS,
    INBOUND_STATUSES,
    LABELS,
    LINK_KIND_LABELS,
    MESSAGES,
    MIGRATION_STATUSES,
    N_,
    RECIPIENT_LABELS,
    REJECTIONS,
    RIGHT_LABELS,
    STYLE_LABELS,
)
from web.i18n.translate import (
    inbound_status,
    label_of,
    labelled,
    rejection_text,
    translate_label,
    translate_message,
    translated_priorities,
)

__all__ = [
    "CATEGORY_LABELS",
    "COOKIE",
    "COOKIE_MAX_AGE",
    "DEFAULT",
    "FIELD_TYPE_LABELS",
    "INBOUND_STATUSES",
    "LABELS",
    "LANGUAGES",
    "LINK_KIND_LABELS",
    "MESSAGES",
    "MIGRATION_STATUSES",
    "N_",
    "RECIPIENT_LABELS",
    "REJECTIONS",
    "RIGHT_LABELS",
    "STYLE_LABELS",
    "babel",
    "bp",
    "current_language",
    "enabled_codes",
    "enabled_languages",
    "extract_process",
    "force_locale",
    "format_money",
    "format_number",
    "format_when",
    "gettext",
    "helpdesk_language",
    "inbound_status",
    "init_app",
    "label_of",
    "label_order",
    "labelled",
    "lazy_gettext",
    "ngettext",
    "offered_languages",
    "plural_forms",
    "process_texts",
    "rejection_text",
    "safe_path",
    "select_locale",
    "spec_text",
    "state_text",
    "switch",
    "translate_label",
    "translate_message",
    "translated_priorities",
]


def init_app(app: Flask) -> None:
    """Bind Babel to the app, give templates the translating filters and helpers, and
    register the language switch."""
    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_locale)
    # ``{% trans %}`` blocks collapse their whitespace, so a long sentence may wrap.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["msg"] = translate_message
    app.jinja_env.filters["rejection"] = rejection_text
    app.jinja_env.filters["when"] = format_when  # dates, numbers, money in the locale
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["tr"] = spec_text  # a process text in the viewer's language
    app.jinja_env.globals.update(
        ui_languages=LANGUAGES,
        enabled_languages=enabled_languages,
        offered_languages=offered_languages,
        current_language=current_language,
        plural_forms=plural_forms,
        labelled=labelled,
        state_text=state_text,
        category_label=lambda key: label_of(CATEGORY_LABELS, key),
        field_type_label=lambda key: label_of(FIELD_TYPE_LABELS, key),
        style_label=lambda key: label_of(STYLE_LABELS, key),
        recipient_label=lambda key: label_of(RECIPIENT_LABELS, key),
        link_kind_label=lambda key: label_of(LINK_KIND_LABELS, key),
        inbound_status=inbound_status,
        migration_status=lambda key: label_of(MIGRATION_STATUSES, key),
    )
    app.register_blueprint(bp)
