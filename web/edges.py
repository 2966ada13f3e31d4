"""The shapes no request may bring in, checked once for every endpoint: text that cannot be
stored (a NUL character, which PostgreSQL refuses in text; a lone UTF-16 surrogate, which no
encoder writes) and values longer than their column. Each answers 422 naming the field,
instead of a 500 from deep inside."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map

from tempodesk.core.limits import ColumnTooLong
from web import error_response
from web.i18n import N_

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


#: The largest id a URL may name: what an INTEGER column holds (a larger one is a 404, not a
#: database error).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number an id column can hold."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: their ``<int:...>`` rules use ``IdConverter``."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_unstorable_text)
    app.register_error_handler(ColumnTooLong, _too_long)


def id_arg(raw: str | None) -> int | None:
    """A query argument naming an id, or None if it is not one (``"²".isdigit()`` is true)."""
    if raw and raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID:
        return int(raw)
    return None


def _texts(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value (keys too), with the path that names it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, str(key)
            yield from _texts(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{path}[{index}]")


#: Bodies read as form fields; any other body (raw mail, files) is left to its route, which may
#: allow more than the app-wide MAX_CONTENT_LENGTH (touching request.form would apply that).
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _fields() -> Iterator[tuple[str, str]]:
    form = request.mimetype in _FORMS
    for source in (request.args, request.form) if form else (request.args,):
        for key, values in source.lists():
            yield key, key
            for value in values:
                yield key, value
    for key, upload in request.files.items(multi=True) if form else ():
        yield key, upload.filename or ""
    if request.is_json:
        yield from _texts(request.get_json(silent=True), "")


def _refuse_unstorable_text() -> Any:
    bad = sorted({name for name, text in _fields() if _UNSTORABLE.search(text)})
    if not bad:
        return None
    return error_response(
        422,
        "invalid",
        N_("Some fields are not filled in correctly."),
        fields={name: "Contains a NUL character or a lone surrogate." for name in bad},
    )


def _too_long(exc: ColumnTooLong) -> Any:
    return error_response(
        422,
        "invalid",
        N_("Some fields are not filled in correctly."),
        fields={exc.field: f"At most {exc.limit} characters."},
    )
