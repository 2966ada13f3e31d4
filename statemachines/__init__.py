"""Process definitions: schema, validation, rights and compilation to python-statemachine.

Pure: nothing here touches the network, the clock, the disk or the database (reading the
bundled definition files is done by ``bundled()``, called only outside workflows).
"""

from .calendar import Calendar, CalendarError, NoBusinessTime
from .checks import language_warnings
from .compiler import CompiledProcess, compile_definition, compile_pinned, move, to_statechart
from .definition import (
    CUSTOMER_MESSAGE,
    EFFECTS,
    FIELD_TYPES,
    OPEN_CATEGORIES,
    PRIORITIES,
    RECIPIENTS,
    RESOLVED_CATEGORIES,
    STATE_CATEGORIES,
    ActionSpec,
    FieldSpec,
    ProcessDefinition,
    StateSpec,
)
from .durations import parse_duration
from .formats import from_json, load_text, read_yaml, to_yaml
from .migration import MigrationRefused, migration_target, target_problem
from .parsing import parse_definition
from .problems import DefinitionError, Problem
from .rights import RIGHTS, SHIPPED_ROLES, holds, rights_of
from .rules import (
    REJECTION_TEXTS,
    REJECTION_TYPES,
    FieldErrors,
    Rejection,
    actions_for,
    check_action,
    clean_fields,
    coerce_form,
    customer_actions,
    may_perform,
    may_see,
    public_field_values,
)
from .texts import Texts, in_language


def bundled(name: str) -> str:
    """The text of a definition file shipped in ``statemachines/processes``."""
    from importlib.resources import files

    return (files(__package__) / "processes" / f"{name}.yaml").read_text(encoding="utf-8")


__all__ = [
    "CUSTOMER_MESSAGE",
    "EFFECTS",
    "FIELD_TYPES",
    "OPEN_CATEGORIES",
    "PRIORITIES",
    "RECIPIENTS",
    "REJECTION_TEXTS",
    "REJECTION_TYPES",
    "RESOLVED_CATEGORIES",
    "RIGHTS",
    "SHIPPED_ROLES",
    "STATE_CATEGORIES",
    "ActionSpec",
    "Calendar",
    "CalendarError",
    "CompiledProcess",
    "DefinitionError",
    "FieldErrors",
    "FieldSpec",
    "MigrationRefused",
    "NoBusinessTime",
    "Problem",
    "ProcessDefinition",
    "Rejection",
    "StateSpec",
    "Texts",
    "actions_for",
    "bundled",
    "check_action",
    "clean_fields",
    "coerce_form",
    "compile_definition",
    "compile_pinned",
    "customer_actions",
    "from_json",
    "holds",
    "in_language",
    "language_warnings",
    "load_text",
    "may_perform",
    "may_see",
    "migration_target",
    "move",
    "parse_definition",
    "parse_duration",
    "public_field_values",
    "read_yaml",
    "rights_of",
    "target_problem",
    "to_statechart",
    "to_yaml",
]
