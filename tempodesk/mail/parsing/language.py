# ruff: noqa: RUF001, RUF002  (Cyrillic and Greek letters are the point here)
"""Which language an inbound mail is written in, to remember on a new contact: the mail's
``Content-Language`` header when it names a language Tempodesk speaks, else a small
deterministic guess from the text (``detect``), else nothing (the mailbox's language, then
the helpdesk's default, decide).

The guess knows Tempodesk's seven languages only. The script decides Greek; Cyrillic is
Ukrainian or Russian by the letters only one of them has (і ї є ґ against ы э ъ ё) and their
common words; Latin text is English, Czech, German or Lithuanian by their own letters
(ě ř ů; ą ę ė į ų ū; ä ö ü ß) and common words. Too little evidence answers "".
"""

from __future__ import annotations

import re
import unicodedata

from tempodesk.core.languages import LANGUAGES

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

#: Letters only one language of its script has.
_LETTERS = {
    "uk": "іїєґ",
    "ru": "ыэъё",
    "cs": "ěřů",
    "lt": "ąęėįųū",
    "de": "äöüß",
}
#: Short, frequent words of each language (what a support request is full of).
_WORDS = {
    "en": "the and is are you your to of my it not please thank thanks order with for have "
    "this that was hello we can",
    "de": "der die das und ist nicht ich mit bitte danke meine mein ein eine ihr sie wir "
    "hallo guten tag bestellung funktioniert auf für",
    "cs": "je a se na že v ve dobrý den prosím děkuji objednávka nefunguje mi mám jsem "
    "moje jak to by pro",
    "lt": "ir yra kad su labas laba diena prašau ačiū užsakymas mano neveikia aš jūs nėra kaip ar",
    "uk": "і й що це та не на як дякую будь ласка замовлення мій моє я ви вітаю добрий день працює",
    "ru": "и что это не на как спасибо пожалуйста заказ мой моё я вы здравствуйте добрый "
    "день работает",
}
_WORD_SETS = {language: frozenset(words.split()) for language, words in _WORDS.items()}
_SCRIPTS = {"GREEK": ("el",), "CYRILLIC": ("uk", "ru"), "LATIN": ("en", "cs", "de", "lt")}
_MIN_SCORE = 2


def _script_counts(text: str) -> dict[str, int]:
    counts = dict.fromkeys(_SCRIPTS, 0)
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            script = name.split(" ", 1)[0]
            if script in counts:
                counts[script] += 1
    return counts


def detect(text: str) -> str:
    """The language of ``text`` among Tempodesk's, or "" when the evidence is too thin."""
    text = text[:20_000].lower()
    counts = _script_counts(text)
    script = max(counts, key=lambda s: counts[s])
    if counts[script] < 3:
        return ""
    candidates = _SCRIPTS[script]
    if len(candidates) == 1:
        return candidates[0]
    words = _WORD.findall(text)
    scores = dict.fromkeys(candidates, 0)
    for language in candidates:
        letters = _LETTERS.get(language, "")
        scores[language] += 3 * min(10, sum(text.count(letter) for letter in letters))
        scores[language] += sum(1 for word in words if word in _WORD_SETS[language])
    ranked = sorted(
        candidates, key=lambda language: (-scores[language], candidates.index(language))
    )
    best, second = ranked[0], ranked[1]
    if scores[best] < _MIN_SCORE or scores[best] == scores[second]:
        return ""
    return best


def header_language(value: str | None) -> str:
    """The first language Tempodesk speaks in a ``Content-Language`` value ("de-AT, en")."""
    for tag in (value or "").split(","):
        code = tag.strip().split("-", 1)[0].split("_", 1)[0].lower()
        if code in LANGUAGES:
            return code
    return ""


def mail_language(content_language: str | None, subject: str, text: str) -> str:
    """An inbound mail's language: its header's, else the guess from subject and text."""
    return header_language(content_language) or detect(f"{subject}\n{text}")
