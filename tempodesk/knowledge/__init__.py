"""The knowledge base (FAQ): categories, articles public or internal per language, search,
"was this helpful" counts, the help centre's settings and information pages, and the
articles agents link to tickets.

A module per concept: ``bodies`` (the HTML allowlist, sanitised in a killable child when
large, and the plain text of an article), ``articles`` (articles: checks, saving, reading,
search, helpful votes), ``site`` (categories, information pages and the help centre's look)
and ``links`` (articles linked to tickets). It imports only ``tempodesk.core``.
"""

#: The languages articles, categories and pages are written in (the UI's languages).
from tempodesk.core.languages import LANGUAGES as LANGUAGES
