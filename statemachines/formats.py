"""A definition's texts: YAML (files, the expert editor, export) and JSON (pinned into
workflows; written by ``ProcessDefinition.to_json``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .definition import ProcessDefinition
from .parsing import parse_definition
from .problems import DefinitionError, Problem


def read_yaml(text: str) -> Any:
    """YAML text to plain data; a duplicated key is an error, not a silent overwrite."""
    import yaml

    class _StrictLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                raise DefinitionError(
                    [
                        Problem(
                            f"line {key_node.start_mark.line + 1}",
                            f"'{key}' is defined twice here; ids must be unique.",
                        )
                    ]
                )
            seen.add(key)
        return loader.construct_mapping(node)

    _StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([Problem(where, f"Not valid YAML: {problem}.")]) from None


def load_text(
    text: str,
    *,
    known_groups: Iterable[str] | None = None,
    known_templates: Iterable[str] | None = None,
) -> ProcessDefinition:
    """Read a definition from YAML (or JSON, which is YAML too) text."""
    return parse_definition(
        read_yaml(text), known_groups=known_groups, known_templates=known_templates
    )


def to_yaml(definition: ProcessDefinition) -> str:
    """The definition as the YAML the expert editor shows and `process export` writes."""
    import yaml

    return yaml.safe_dump(definition.to_document(), sort_keys=False, allow_unicode=True, width=100)


def from_json(text: str) -> ProcessDefinition:
    """Read a pinned definition (already validated when it was published)."""
    return parse_definition(json.loads(text))
