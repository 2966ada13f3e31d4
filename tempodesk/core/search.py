"""Full-text search, one approach for every table that has it (tickets, knowledge articles).

A searchable table keeps one text column (``search_text``) written by its owner with
:func:`search_text`: the parts one per line, then a line with every word that has diacritics
written without them. PostgreSQL indexes a stored generated ``search_vector``
(``to_tsvector('simple', search_text)``, GIN); SQLite an FTS5 table kept by triggers
(``tokenize='unicode61 remove_diacritics 2'``). The ``simple`` configuration (no stemming)
because texts mix languages; the query's words are folded the same way, all must occur and
the last one is a prefix (:func:`matches`). The DDL lives in the migrations (0004/0005 for
tickets, 0016 for articles).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, literal_column, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

#: At most this many words of a query are used.
MAX_QUERY_WORDS = 12


def fold(value: str) -> str:
    """Lower case without diacritics: "Nováková" → "novakova"."""
    decomposed = unicodedata.normalize("NFKD", value.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_words(query: str) -> list[str]:
    """The words of a user's query, folded (at most :data:`MAX_QUERY_WORDS`)."""
    return [w for w in re.findall(r"[\w@.+-]+", fold(query)) if w.strip(".+-")][:MAX_QUERY_WORDS]


def search_text(parts: Iterable[str], max_chars: int) -> str:
    """What search reads: the ``parts`` one per line, at most ``max_chars`` characters, then a
    last line with every word that has diacritics written without them (once each)."""
    joined = "\n".join(p for p in parts if p)[:max_chars]
    folded = dict.fromkeys(
        plain for word in re.findall(r"\w+", joined) if (plain := fold(word)) != word.lower()
    )
    return f"{joined}\n{' '.join(folded)}" if folded else joined


def matches(
    session: Session, query: str, *, table: str, fts_table: str, row_id: InstrumentedAttribute[int]
) -> ColumnElement[bool]:
    """Full-text match of a user's words in ``table`` (all must occur; the last may be a
    prefix): its ``search_vector`` on PostgreSQL, else the FTS5 table ``fts_table`` whose
    rowid is ``row_id``."""
    words = query_words(query)
    if not words:
        return literal_column("1") == literal_column("1")
    if session.get_bind().dialect.name == "postgresql":
        terms = " & ".join(
            pg_term(w) + (":*" if i == len(words) - 1 else "") for i, w in enumerate(words)
        )
        return literal_column(f"{table}.search_vector").op("@@")(
            func.to_tsquery(literal_column("'simple'"), terms)
        )
    fts = " ".join(
        '"' + w.replace('"', '""') + '"' + ("*" if i == len(words) - 1 else "")
        for i, w in enumerate(words)
    )
    return row_id.in_(
        select(literal_column("rowid"))
        .select_from(text(fts_table))
        .where(text(f"{fts_table} MATCH :fts").bindparams(fts=fts))
    )


def pg_term(word: str) -> str:
    # to_tsquery syntax: quote the lexeme so punctuation in e-mails and numbers stays literal.
    return "'" + word.replace("\\", "").replace("'", "''") + "'"
