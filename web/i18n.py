"""The web UI in the agent's language (Flask-Babel): the locale, the language switch of the
public pages, and translations of texts made by the pure modules.

- **The locale** of a request: the signed-in agent's ``User.language``; else the ``lang``
  cookie the switch on public pages sets; else the browser's ``Accept-Language``; else
  English. The JSON API is always English (its messages are for integrators).
- **Texts from the pure modules** (``statemachines``, ``tempodesk``: field errors, intake
  errors, built-in list names, priorities, the workflow's rejections) are English and must
  stay free of Flask. They are translated where the web shows them, by ``translate_message``
  (the template filter ``msg``): the English text is the msgid. The msgids are listed here
  with ``N_`` so that extraction finds them; one with ``%(name)s`` placeholders also matches
  the text with anything in their place (``At most %(max)s characters.`` matches "At most
  200 characters."). A text nobody listed is shown as it is (English).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import yaml
from flask import Blueprint, Flask, redirect, request, url_for
from flask_babel import (
    Babel,
    force_locale,
    get_locale,
    get_translations,
    gettext,
    lazy_gettext,
    ngettext,
)
from flask_login import current_user

__all__ = [
    "LANGUAGES",
    "N_",
    "babel",
    "force_locale",
    "gettext",
    "init_app",
    "lazy_gettext",
    "ngettext",
    "translate_message",
]

#: The languages of the UI, each named in itself (as a language menu shows them).
LANGUAGES = {"en": "English", "cs": "Čeština"}
DEFAULT = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()
bp = Blueprint("i18n", __name__)


def N_(text: str) -> str:
    """Mark a text for extraction without translating it here (it is translated later)."""
    return text


def select_locale() -> str:
    if request.path.startswith("/api/"):
        return DEFAULT
    if current_user and current_user.is_authenticated:
        language = getattr(current_user, "language", "")
        if language in LANGUAGES:
            return str(language)
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def init_app(app: Flask) -> None:
    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_locale)
    # ``{% trans %}`` blocks collapse their whitespace, so a long sentence may wrap.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["msg"] = translate_message
    app.jinja_env.filters["rejection"] = rejection_text
    app.jinja_env.globals.update(
        ui_languages=LANGUAGES,
        current_language=current_language,
        plural_forms=plural_forms,
        labelled=labelled,
        category_label=lambda key: _label(CATEGORY_LABELS, key),
        field_type_label=lambda key: _label(FIELD_TYPE_LABELS, key),
        style_label=lambda key: _label(STYLE_LABELS, key),
        recipient_label=lambda key: _label(RECIPIENT_LABELS, key),
        inbound_status=inbound_status,
        migration_status=lambda key: _label(MIGRATION_STATUSES, key),
    )
    app.register_blueprint(bp)


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


# ------------------------------------------------------------------ the language switch


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
    """The "English | Čeština" links of the public pages: remember the choice in a cookie
    and go back to the page (``next``, a path on this site)."""
    back = safe_path(request.args.get("next"), url_for("public.new"))
    response = redirect(back)
    if code in LANGUAGES:
        response.set_cookie(
            COOKIE, code, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", path="/"
        )
    return response


# ------------------------------------------------------------------ texts of the pure modules

#: statemachines.PRIORITIES and the built-in lists (tempodesk.tickets.lists), sorts and view
#: modes (tempodesk.tickets.marks), ways a request comes in (tempodesk.people.customers),
#: canned answer sharing (tempodesk.messaging.canned), template variables
#: (tempodesk.messaging.templates) and effect descriptions (statemachines.EFFECTS):
#: shown in menus, tables and help texts. A test checks that every
#: one of them is listed here.
LABELS = [
    # priorities
    N_("Low"),
    N_("Normal"),
    N_("High"),
    N_("Urgent"),
    # built-in lists
    N_("Mine"),
    N_("Unassigned"),
    N_("My groups"),
    N_("Unread"),
    N_("Followed"),
    N_("All open"),
    N_("Waiting for customer"),
    N_("Spam"),
    N_("All tickets"),
    # sorts and view modes
    N_("Newest first"),
    N_("Oldest first"),
    N_("Recently updated"),
    N_("Highest priority"),
    N_("Table"),
    N_("Compact list"),
    N_("Split view"),
    # how a request came in (an agent's new ticket)
    N_("Phone call"),
    N_("Walk-in"),
    N_("Returned parcel"),
    N_("Email"),
    N_("Web form"),
    N_("Other (API)"),
    # who sees a canned answer
    N_("Everyone"),
    N_("Chosen groups"),
    N_("One agent (personal)"),
    # outcomes of an orders CSV import; delivery of a mail
    N_("created"),
    N_("updated"),
    N_("error"),
    N_("skipped"),
    N_("sent"),
    N_("failed"),
    # template variables
    N_("The ticket number, e.g. HD-2026-000123"),
    N_("The subject of the request"),
    N_("The state as agents see it"),
    N_("The state as the customer sees it"),
    N_("Low, Normal, High or Urgent"),
    N_("Username of the assignee (empty if none)"),
    N_("The group the ticket is assigned to"),
    N_("web, api, email, phone or walk_in"),
    N_("When the ticket was created (UTC)"),
    N_("The ticket on the agent desk"),
    N_("A field stored on the ticket by a set_field effect"),
    N_("The customer"),
    N_("The linked order, if any"),
    N_("The agent who pressed the action (or the assignee)"),
    N_("The action that sent the template and its fields"),
    N_("The reply text, for portal replies"),
    N_("Where the customer reads the ticket in the portal"),
    N_("The name of the helpdesk (the sender name)"),
    # what each effect of a process action does
    N_("Reply to the customer by email with the text of a long-text field."),
    N_("Post the reply in the customer portal only; the email (from a template) just links to it."),
    N_(
        "Send an email or SMS template to the customer, the assignee, the group, a supervisor "
        "or the followers."
    ),
    N_("Send a template to everyone following the ticket."),
    N_("Add an internal note (agents only) from a long-text field."),
    N_("Assign to the agent or group chosen in a field."),
    N_("Forward to a specialist or a group with a note for them."),
    N_("Set the priority from a field."),
    N_(
        "Store a field's value on the ticket (its type or any custom field), searchable; "
        "'name' is the ticket field (the field's id by default)."
    ),
]

#: Identifiers of process definitions shown with a name in the UI (the id stays the value).
CATEGORY_LABELS = {
    "new": N_("new"),
    "open": N_("open"),
    "pending": N_("pending"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
    "merged": N_("merged"),
}
FIELD_TYPE_LABELS = {
    "text": N_("short text"),
    "longtext": N_("long text"),
    "select": N_("choice"),
    "multiselect": N_("several choices"),
    "checkbox": N_("checkbox"),
    "number": N_("number"),
    "date": N_("date"),
    "agent": N_("agent"),
    "group": N_("group"),
    "recipient": N_("agent or group"),
    "priority": N_("priority"),
}
STYLE_LABELS = {"default": N_("default"), "primary": N_("primary"), "danger": N_("danger")}
RECIPIENT_LABELS = {
    "customer": N_("customer"),
    "assignee": N_("assignee"),
    "group": N_("group"),
    "supervisor": N_("supervisor"),
    "followers": N_("followers"),
}
#: What became of an inbound mail (tempodesk.mail.inbound), as the admin pages say it.
INBOUND_STATUSES = {
    "stored": N_("stored"),
    "ticket": N_("ticket"),
    "follow_up": N_("follow up"),
    "ignored": N_("ignored"),
    "quarantined": N_("quarantined"),
}
MIGRATION_STATUSES = {
    "pending": N_("pending"),
    "migrated": N_("migrated"),
    "rejected": N_("rejected"),
}


#: Field errors of action forms (statemachines.rules.clean_fields), of the public form and
#: new tickets (tempodesk.tickets.intake), of contacts, organisations and orders
#: (tempodesk.people.customers), of saved filters and lists (tempodesk.tickets.marks,
#: tempodesk.tickets.lists), and
#: the workflow's reasons to refuse an action (workflows.ticket, tempodesk.tickets.actions).
MESSAGES = [
    # statemachines.rules.clean_fields
    N_("This field is required."),
    N_("Enter some text."),
    N_("Enter text."),
    N_("At most %(max)s characters."),
    N_("Choose one of the offered values."),
    N_("Choose among the offered values."),
    N_("Expected true or false."),
    N_("Enter a number."),
    N_("Enter a date as YYYY-MM-DD."),
    N_("Enter a real date as YYYY-MM-DD."),
    N_("Choose an agent."),
    N_("Choose a group."),
    N_("Choose an agent or a group."),
    N_("Choose a priority."),
    N_("The action '%(action)s' has no field '%(field)s'."),
    # tempodesk.tickets.intake
    N_("Enter a subject."),
    N_("Enter a message."),
    N_("Enter a valid email address."),
    N_("Enter an email address (or a phone number)."),
    N_("Enter a valid phone number."),
    N_("There is no process '%(process)s'."),
    # tempodesk.tickets.actions
    N_("Write a text to go with the files."),
    N_("The ticket engine did not answer in time."),
    # tempodesk.people.customers
    N_("Another contact has this email address (merge them instead)."),
    N_("Enter an email address or a phone number."),
    N_("There is no such organisation."),
    N_("There is no active agent '%(agent)s'."),
    N_("A contact cannot be merged into itself."),
    N_("Choose an existing contact."),
    N_("One of the contacts was removed meanwhile."),
    N_("Enter a name."),
    N_("There is an organisation with this name already."),
    N_("Choose how the request came in."),
    N_("There is no order %(order)s."),
    N_("The file is not UTF-8 text."),
    N_("Missing column(s): %(columns)s."),
    N_("At most %(max)s rows per file."),
    N_("The order %(order)s is on line %(line)s already."),
    N_("The file has no orders."),
    N_("Not imported: the file has errors."),
    N_("Enter the order number."),
    N_("Use letters, digits and . _ - (no spaces)."),
    N_("Give the customer's email address (or phone)."),
    N_("Use an ISO date, e.g. 2026-11-02 or 2026-11-02T10:15:00Z."),
    # tempodesk.tickets.marks and tempodesk.tickets.lists
    N_("Give the filter a name."),
    N_("You may share a filter only with groups you belong to."),
    N_("Only its owner (or an admin, if it is shared) may change this filter."),
    N_("Only its owner (or an admin) may delete this filter."),
    N_("There is no list '%(list)s'."),
    N_("The panel holds at most %(max)s lists."),
    N_("Unknown state category: %(categories)s."),
    N_("The cursor is not valid."),
    N_("The cursor is not valid for this list."),
    N_("Sort by one of %(sorts)s."),
    N_("No such ticket (or you may not see it)."),
    N_("It cannot be assigned while it is “%(state)s”."),
    N_("The ticket engine did not answer; try it again."),
    N_("Done: the ticket is now “%(state)s”."),
    # tempodesk.people.users (an agent's own profile)
    N_("Use one of: %(languages)s."),
    # the timeline (workflows.ticket, activities)
    N_("the spam filter flagged it"),
    N_("timeout after %(after)s"),
    N_("No order %(order)s was found."),
    N_("Order %(order)s belongs to another customer."),
    N_("nobody to send to as %(role)s"),
    N_("automatic mail cap reached for the customer"),
    N_("no ticket or no template '%(template)s'"),
    N_("the template failed: %(problem)s"),
]

#: Why the workflow (or the web, asking the same ``statemachines.check_action``) refused an
#: action, by the rejection's code. The texts equal ``statemachines.REJECTION_TEXTS`` (a test
#: keeps them so); the web translates by the code, never by matching the English.
REJECTIONS = {
    "not_ready": N_("The ticket is still being created; try again in a moment."),
    "state_changed": N_(
        "The ticket has meanwhile moved to '%(state)s'; reload it to see what changed."
    ),
    "not_available": N_(
        "The action '%(action)s' is not available while the ticket is '%(state)s'."
    ),
    "forbidden": N_("You may not '%(action)s' tickets in state '%(state)s'."),
    "assignee_only": N_(
        "You may not '%(action)s' tickets in state '%(state)s'. Only %(assignee)s, the "
        "assignee, may act on this ticket."
    ),
    "no_customer_email": N_("This customer has no email address to reply to."),
    "invalid_fields": N_("Some fields are not filled in correctly."),
    "closed": N_("This ticket is closed; it takes no more actions."),
}


def rejection_text(rejection: Any) -> str:
    """A ``statemachines.Rejection`` in the request's language: the text of its code, with
    its parameters (state and action labels of the shipped processes) translated too."""
    params = {key: translate_label(str(value)) for key, value in rejection.params.items()}
    return gettext(REJECTIONS[rejection.code], **params)


def translate_label(text: str) -> str:
    """A label that may be a msgid (the shipped processes' states and actions, built-in
    lists), in the request's language; any other text as it is."""
    plain, _ = _tables()
    return gettext(text) if text in plain else text


# ------------------------------------------------------------------ the shipped processes

#: The keys of a process definition whose text people read: state and action labels, the
#: customer's state label, confirmation questions, field labels and help, choice labels.
_PROCESS_TEXT_KEYS = ("label", "customer_label", "confirm", "help")


def process_texts(document: Mapping[str, Any]) -> list[str]:
    """The texts of a process definition (a parsed YAML document) that the desk shows.

    The processes shipped with Tempodesk have them in the catalog, so an agent reads "Nový"
    and "Označit jako spam" in Czech; an admin's own labels are shown as they wrote them."""
    found: list[str] = []

    def take(node: Any) -> None:
        if not isinstance(node, Mapping):
            return
        for key in _PROCESS_TEXT_KEYS:
            value = node.get(key)
            if isinstance(value, str) and value.strip():
                found.append(value)
        for field in node.get("fields") or ():
            take(field)
            for choice in (field.get("choices") or ()) if isinstance(field, Mapping) else ():
                take(choice)

    for section in ("states", "actions"):
        for item in (document.get(section) or {}).values():
            take(item)
    return list(dict.fromkeys(found))


def extract_process(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, None, str, list[str]]]:
    """A Babel extractor for definition files (babel.cfg: ``[process: ...yaml]``)."""
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for message in process_texts(yaml.safe_load(text) or {}):
        line = next((n for n, row in enumerate(lines, 1) if message in row), 1)
        yield line, None, message, []


@cache
def _shipped_process_texts() -> frozenset[str]:
    folder = files("statemachines") / "processes"
    return frozenset(
        message
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
        for message in process_texts(yaml.safe_load(entry.read_text(encoding="utf-8")) or {})
    )


# ------------------------------------------------------------------ matching the msgids

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_FIELD_KEY = re.compile(r"[\w.\[\]]+")


@cache
def _tables() -> tuple[frozenset[str], tuple[tuple[re.Pattern[str], str], ...]]:
    """The plain msgids, and a pattern for each msgid with placeholders (longest first)."""
    plain = frozenset(m for m in [*LABELS, *MESSAGES, *REJECTIONS.values()] if "%(" not in m)
    plain |= _shipped_process_texts()
    patterns = []
    for msgid in sorted((m for m in MESSAGES if "%(" in m), key=len, reverse=True):
        pieces = _PLACEHOLDER.split(msgid)
        regex = "".join(
            f"(?P<{piece}>.+?)" if i % 2 else re.escape(piece) for i, piece in enumerate(pieces)
        )
        patterns.append((re.compile(regex, re.DOTALL), msgid))
    return plain, tuple(patterns)


def translate_message(text: Any) -> str:
    """An English text made outside the web layer, in the request's language (as it is if
    it is not one of the listed msgids)."""
    text = "" if text is None else str(text)
    if not text or current_language() == DEFAULT:
        return text
    return _translate(text, parts=True)


def _translate(text: str, *, parts: bool) -> str:
    plain, patterns = _tables()
    if text in plain:
        return gettext(text)
    for pattern, msgid in patterns:
        found = pattern.fullmatch(text)
        if found:
            # What fills a placeholder may be a known text too (a state or action label).
            values = {k: gettext(v) if v in plain else v for k, v in found.groupdict().items()}
            return gettext(msgid, **values)
    if parts and "; " in text:
        # Several field errors in one text ("email: Enter a valid email address.; ..."):
        # each part on its own, the field's name kept.
        return "; ".join(_translate_part(part) for part in text.split("; "))
    return text


def _translate_part(part: str) -> str:
    key, colon, message = part.partition(": ")
    if colon and _FIELD_KEY.fullmatch(key):
        return f"{key}: {_translate(message, parts=False)}"
    return _translate(part, parts=False)


def _label(labels: dict[str, str], key: Any) -> str:
    key = "" if key is None else str(key)
    return gettext(labels[key]) if key in labels else key


def labelled(key: str, label: str) -> str:
    """An option's text: the name, with the id the definition uses when they differ."""
    return key if label == key else f"{label} ({key})"


def inbound_status(status: str) -> str:
    return (
        _label(INBOUND_STATUSES, status) if status in INBOUND_STATUSES else status.replace("_", " ")
    )


def translated_priorities() -> dict[int, str]:
    from statemachines import PRIORITIES

    return {n: translate_message(label) for n, label in PRIORITIES.items()}
