"""The first draft of a new process: a copy of another one, or the smallest that works."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def new_document(
    name: str, label: str = "", copy_of: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The first draft of a new process: a copy of another one, or the smallest that works."""
    if copy_of is not None:
        document = dict(copy_of)
        document["name"] = name
        if label:
            document["label"] = label
        return document
    return {
        "name": name,
        "label": label or name.replace("_", " ").capitalize(),
        "description": "",
        "initial": "new",
        "states": {
            "new": {"label": "New", "category": "new", "actions": ["close"]},
            "closed": {"label": "Closed", "category": "closed", "actions": []},
        },
        "actions": {"close": {"label": "Close", "target": "closed"}},
    }
