"""The UI in the agent's language: every enabled language's catalog is complete and compiled
(the five the translators write fail here until their catalogs land), the locale is picked
from the profile, the public switch and the browser, and the API stays English."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from gettext import c2py
from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from sqlalchemy import select

from statemachines import REJECTION_TEXTS, Rejection, bundled
from statemachines.definition import EFFECTS, PRIORITIES
from tempodesk.core.languages import DEFAULT_ENABLED, parse_enabled
from tempodesk.core.models import User
from tempodesk.messaging import canned, templates
from tempodesk.tickets import entry, lists, panel
from tests.helpers import Stack, csrf_token
from web import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "N_": None,
    "plural_forms": (1, 2),
}
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}|%s")


#: Every language the helpdesk enables by default but English (whose texts are the msgids).
TRANSLATED = tuple(code for code in parse_enabled(DEFAULT_ENABLED) if code != "en")


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def catalog_of(language: str) -> Catalog:
    """The language's catalog; the test fails (not errors) while it does not exist yet."""
    path = po_path(language)
    if not path.exists():
        pytest.fail(f"No catalog for {language}: {path.relative_to(ROOT)}")
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def czech() -> Catalog:
    return catalog_of("cs")


def extracted_msgids() -> set[str]:
    """What `make translations` would extract from the code and the templates now."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    return extracted_msgids()


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def msgid(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple | list) else str(message.id)


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_translates_every_text_of_the_code(language: str, extracted: set[str]) -> None:
    catalog = catalog_of(language)
    missing = sorted(m for m in extracted if not catalog.get(m))
    assert missing == [], "run `make translations` and translate: " + "; ".join(missing[:20])
    untranslated = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if m.pluralizable else [m.string]))
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_keeps_no_stale_text(language: str, extracted: set[str]) -> None:
    """A text the code no longer has is neither kept obsolete (#~) nor left in the catalog."""
    catalog = catalog_of(language)
    assert list(catalog.obsolete) == []
    stale = sorted(msgid(m) for m in catalog if m.id and msgid(m) not in extracted)
    assert stale == [], "; ".join(stale[:20])


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder(language: str) -> None:
    for message in catalog_of(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = placeholders(ids[-1]) | placeholders(ids[0])
        for string in strings:
            assert placeholders(string) <= wanted, (message.id, string)
            # The number may be left out of a singular ("jeden požadavek"), nothing else.
            assert wanted - placeholders(string) <= {"%(n)s", "%(count)s", "{n}"}, (
                message.id,
                string,
            )


@pytest.mark.parametrize("language", TRANSLATED)
def test_plurals_have_every_form_of_the_languages_plural_rule(language: str) -> None:
    """The header's rule is Babel's for the locale (same count, same choice for every n) and
    every plural text has all its forms."""
    catalog = catalog_of(language)
    rule = get_plural(language)
    assert catalog.num_plurals == rule.num_plurals
    ours, babels = c2py(catalog.plural_expr), c2py(rule.plural_expr)
    assert [ours(n) for n in range(0, 250)] == [babels(n) for n in range(0, 250)]
    plurals = [m for m in catalog if m.pluralizable and m.id]
    assert plurals
    for message in plurals:
        assert len(message.string) == rule.num_plurals and all(message.string), message.id


def test_czech_plurals_have_the_three_czech_forms() -> None:
    assert czech().num_plurals == 3


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalog_matches_its_source(language: str) -> None:
    """The shipped .mo is what `make translations` compiles from the .po (no stale file)."""
    compiled = io.BytesIO()
    write_mo(compiled, catalog_of(language))
    compiled.seek(0)
    mo = po_path(language).with_suffix(".mo")
    assert mo.exists(), f"compile {mo.relative_to(ROOT)}"
    with mo.open("rb") as handle:
        shipped = read_mo(handle)
    fresh = read_mo(compiled)
    assert entries(shipped) == entries(fresh)


def entries(catalog: Catalog) -> dict[object, object]:
    def frozen(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {frozen(m.id): frozen(m.string) for m in catalog if m.id}


def test_texts_of_the_pure_modules_are_listed_for_translation() -> None:
    listed = set(i18n.LABELS) | set(i18n.MESSAGES) | set(i18n.REJECTIONS.values())
    texts = [
        *PRIORITIES.values(),
        *(view.label for view in lists.BUILT_IN),
        *panel.MODE_LABELS.values(),
        *lists.SORT_LABELS.values(),
        *(label for label, _, _ in entry.ENTRY_KINDS.values()),
        *canned.SHARING.values(),
        *(text for _, text in templates.VARIABLES),
        *(rule.doc for rule in EFFECTS.values()),
    ]
    assert sorted(set(texts) - listed) == []


# ------------------------------------------------------------------ the web in Czech


@pytest.fixture
def czech_agent(stack: Stack) -> Iterator[str]:
    """agent2 with the desk in Czech (English again afterwards: the stack is shared)."""
    yield "agent2"
    with stack.sessions() as session:
        session.scalar(select(User).where(User.username == "agent2")).language = "en"
        session.commit()


def choose_language(stack: Stack, username: str, language: str):  # type: ignore[no-untyped-def]
    client = stack.login(username)
    page = client.get("/desk/profile").get_data(as_text=True)
    response = client.post(
        "/desk/profile",
        data={
            "csrf_token": csrf_token(page),
            "display_name": re.search(r'id="display_name"[^>]*value="([^"]*)"', page).group(1),  # type: ignore[union-attr]
            "language": language,
        },
    )
    assert response.status_code == 302
    return client


def test_agent_picks_czech_and_the_desk_speaks_it(stack: Stack, czech_agent: str) -> None:
    client = choose_language(stack, czech_agent, "cs")
    profile = client.get("/desk/profile").get_data(as_text=True)
    assert '<html lang="cs">' in profile
    assert czech().get("Your profile is saved.").string in profile
    desk_page = client.get("/desk/").get_data(as_text=True)
    assert "Nepřiřazené" in desk_page and "Unassigned" not in desk_page
    with stack.sessions() as session:
        user = session.scalar(select(User).where(User.username == czech_agent))
        assert user is not None and user.language == "cs"


def test_profile_refuses_a_language_the_desk_does_not_speak(stack: Stack, czech_agent: str) -> None:
    client = stack.login(czech_agent)
    page = client.get("/desk/profile").get_data(as_text=True)
    response = client.post(
        "/desk/profile",
        data={"csrf_token": csrf_token(page), "display_name": "", "language": "xx"},
    )
    assert response.status_code == 422
    assert "Use one of: en, cs, de, uk, lt, el, ru." in response.get_data(as_text=True)


def test_czech_field_errors_of_the_pure_modules_are_translated(stack: Stack) -> None:
    client = stack.client()
    page = client.get("/support/new", headers={"Accept-Language": "cs"}).get_data(as_text=True)
    assert '<html lang="cs">' in page
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)
    assert submission is not None
    response = client.post(
        "/support/new",
        headers={"Accept-Language": "cs"},
        data={
            "csrf_token": csrf_token(page),
            "submission": submission.group(1),
            "name": "Karel",
            "email": "karel at example",
            "subject": "",
            "message": "",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    catalog = czech()
    for english in ("Enter a valid email address.", "Enter a subject.", "Enter a message."):
        translated = catalog.get(english).string
        assert translated and translated != english
        assert translated in html and english not in html


def test_public_language_switch_remembers_the_choice_and_stays_on_this_site(
    stack: Stack,
) -> None:
    client = stack.client()
    response = client.get("/language/cs?next=/support/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/support/new")
    assert '<html lang="cs">' in client.get("/support/new").get_data(as_text=True)

    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"):
        response = stack.client().get("/language/en", query_string={"next": hostile})
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"]
        assert response.headers["Location"].endswith("/support/new")

    unknown = stack.client().get("/language/xx?next=/support/new")
    assert "lang=" not in unknown.headers.get("Set-Cookie", "")


def test_browser_language_is_used_until_someone_chooses(stack: Stack) -> None:
    page = stack.client().get("/support/new", headers={"Accept-Language": "cs-CZ,cs;q=0.9"})
    assert '<html lang="cs">' in page.get_data(as_text=True)
    page = stack.client().get("/support/new", headers={"Accept-Language": "fr-FR,es;q=0.8"})
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_api_errors_stay_english_whatever_the_browser_asks(stack: Stack) -> None:
    response = stack.client().post(
        "/api/v1/tickets",
        json={"subject": "", "body": ""},
        headers={**stack.api(), "Accept-Language": "cs"},
    )
    assert response.status_code in (400, 422)
    body = response.get_json()
    assert body["error"]["code"]
    text = repr(body)
    assert not re.search(r"[ěščřžýáíéůú]", text), text


def test_placeholder_messages_are_matched_and_translated(stack: Stack) -> None:
    with stack.app.test_request_context("/support/new", headers={"Accept-Language": "cs"}):
        assert i18n.translate_message("At most 200 characters.") == i18n.gettext(
            "At most %(max)s characters.", max="200"
        )
        assert i18n.translate_message("At most 200 characters.") != "At most 200 characters."
        joined = i18n.translate_message(
            "email: Enter a valid email address.; subject: Enter a subject."
        )
        assert joined.startswith("email: ") and "; subject: " in joined
        assert "Enter" not in joined
        assert i18n.translate_message("Something nobody listed.") == "Something nobody listed."
        forms = i18n.plural_forms("{n} selected ticket:", "{n} selected tickets:").split("|")
        assert len(forms) == 3 and all("{n}" in form for form in forms)
    with stack.app.test_request_context("/support/new", headers={"Accept-Language": "en"}):
        assert i18n.translate_message("At most 200 characters.") == "At most 200 characters."


def test_rejections_are_translated_by_their_code_not_by_their_english() -> None:
    assert i18n.REJECTIONS == REJECTION_TEXTS  # one text per code, in both rooms


def test_a_rejection_reads_in_czech_with_the_shipped_labels_translated(stack: Stack) -> None:
    rejection = Rejection("forbidden", {"action": "Mark as spam", "state": "New"})
    with stack.app.test_request_context("/desk/", headers={"Accept-Language": "cs"}):
        text = i18n.rejection_text(rejection)
        assert text == i18n.gettext(
            i18n.REJECTIONS["forbidden"],
            action=i18n.gettext("Mark as spam"),
            state=i18n.gettext("New"),
        )
        assert "Mark as spam" not in text and "You may not" not in text
        # The English text of a rejection is no longer matched: only its code translates it.
        assert i18n.translate_message(rejection.message) == rejection.message
    with stack.app.test_request_context("/desk/", headers={"Accept-Language": "en"}):
        assert i18n.rejection_text(rejection) == rejection.message


def test_shipped_process_texts_are_extracted_with_fields_choices_and_questions() -> None:
    texts = i18n.process_texts(yaml.safe_load(bundled("support")))
    for text in (
        "New",  # a state
        "Waiting for your reply",  # what the customer sees
        "Mark as spam",  # an action
        "Move this ticket to spam?",  # its confirmation question
        "Reply to the customer",  # a field
        "Order or delivery",  # a choice
    ):
        assert text in texts, text
    assert "support" not in texts and "reply" not in texts  # ids are not texts


def test_czech_desk_shows_the_shipped_process_in_czech_and_admin_labels_as_written(
    stack: Stack, czech_agent: str
) -> None:
    catalog = czech()
    response = stack.client().post(
        "/api/v1/tickets",
        json={"subject": "Ahoj", "body": "Dobrý den", "customer": {"email": "cz@example.org"}},
        headers=stack.api(),
    )
    number = response.get_json()["number"]
    client = choose_language(stack, czech_agent, "cs")
    page = html.unescape(client.get(f"/desk/tickets/{number}").get_data(as_text=True))
    for english in ("New", "Mark as spam", "Move this ticket to spam?", "Internal note"):
        assert catalog.get(english).string in page, english
    assert ">Mark as spam<" not in page
    listing = client.get("/desk/?view=view:all").get_data(as_text=True)
    assert f">{catalog.get('New').string}<" in listing

    with stack.app.test_request_context("/desk/", headers={"Accept-Language": "cs"}):
        assert i18n.translate_message("Our own state") == "Our own state"
        # A known label inside a rejection is translated as well.
        refused = i18n.rejection_text(
            Rejection("not_available", {"action": "Mark as spam", "state": "Closed"})
        )
        assert catalog.get("Mark as spam").string in refused
        assert catalog.get("Closed").string in refused
