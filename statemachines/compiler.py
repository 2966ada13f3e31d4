"""Compile a process definition into a python-statemachine class.

The definition becomes the library's own declarative document (``statemachine.io``'s native
JSON format) and is loaded with the library's restricted evaluator (never ``trusted``). The
machine decides; it acts on nothing. Each transition calls ``record`` on the bound model,
which does nothing: the workflow carries out the action's effects and keeps the timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from statemachine import StateChart
from statemachine.exceptions import InvalidDefinition, TransitionNotAllowed
from statemachine.io import load

from .definition import CUSTOMER_MESSAGE, ProcessDefinition
from .formats import from_json
from .problems import DefinitionError, Problem


def to_statechart(definition: ProcessDefinition) -> dict[str, Any]:
    """The definition in python-statemachine's native document format."""
    states: dict[str, Any] = {}
    for state in definition.states:
        transitions = []
        for action in definition.actions_in(state.id):
            target = definition.target_of(state.id, action)
            transitions.append(
                {"event": action.id, "target": target, "internal": action.stays, "on": "record"}
            )
        if not state.final:
            target = definition.customer_message_target(state.id)
            transitions.append(
                {
                    "event": CUSTOMER_MESSAGE,
                    "target": target,
                    "internal": target == state.id,
                    "on": "record",
                }
            )
        doc: dict[str, Any] = {"transitions": transitions} if transitions else {}
        if state.id == definition.initial:
            doc["initial"] = True
        if state.final:
            doc["final"] = True
        states[state.id] = doc
    return {"name": _class_name(definition.name), "states": states}


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Process"


class Transitions:
    """The model a machine is bound to. Every transition of the document calls ``record``
    (the diagram shows it on transitions within a state); it keeps nothing, as the workflow
    records what happened on the ticket's timeline."""

    def record(self, **_: Any) -> None:
        """The machine decides; the workflow acts and records."""


def build_machine_class(definition: ProcessDefinition) -> type[StateChart]:
    """Load the definition through python-statemachine; strict about unknown events."""
    try:
        loaded = load(json.dumps(to_statechart(definition)), format="json")
    except InvalidDefinition as exc:
        raise DefinitionError([Problem("", f"The state machine cannot be built: {exc}")]) from exc
    strict: type[StateChart] = type(
        loaded.__name__,
        (loaded,),
        {
            "__module__": __name__,
            # An action that is not available must be an error the agent sees.
            "allow_event_without_transition": False,
            "catch_errors_as_events": False,
        },
    )
    return strict


@dataclass
class CompiledProcess:
    """A definition with its machine class, ready to drive a ticket."""

    definition: ProcessDefinition
    machine_class: type[StateChart]

    def machine(self, state: str) -> tuple[StateChart, Transitions]:
        model = Transitions()
        return self.machine_class(model=model, start_value=state), model

    def mermaid(self) -> str:
        return f"{self.machine_class:mermaid}"


def compile_definition(definition: ProcessDefinition) -> CompiledProcess:
    """Compile and instantiate once, so a definition that cannot run is refused at save time."""
    machine_class = build_machine_class(definition)
    try:
        for state in definition.states:
            machine_class(model=Transitions(), start_value=state.id)
    except Exception as exc:
        raise DefinitionError([Problem("", f"The state machine cannot start: {exc}")]) from exc
    return CompiledProcess(definition, machine_class)


@lru_cache(maxsize=64)
def compile_pinned(document: str) -> CompiledProcess:
    """Compile a pinned JSON document; cached, since many tickets share one version."""
    return compile_definition(from_json(document))


def move(machine: StateChart, event: str) -> str:
    """Send an event and return the new state; raises TransitionNotAllowed if unavailable."""
    machine.send(event)
    return str(machine.current_state_value)


__all__ = [
    "CompiledProcess",
    "TransitionNotAllowed",
    "Transitions",
    "build_machine_class",
    "compile_definition",
    "compile_pinned",
    "move",
    "to_statechart",
]
