"""The texts of the process definitions shipped with Tempodesk: labels, customer labels,
confirmation questions, field help and choices, extracted from the YAML for the catalog
(``extract_process``, named in ``babel.cfg``). An admin's own labels are shown as they wrote
them, or in the viewer's language when they wrote a mapping of languages (``labels``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

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
def shipped_process_texts() -> frozenset[str]:
    """Every text of the processes shipped in ``statemachines/processes`` (read once)."""
    folder = files("statemachines") / "processes"
    return frozenset(
        message
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
        for message in process_texts(yaml.safe_load(entry.read_text(encoding="utf-8")) or {})
    )
