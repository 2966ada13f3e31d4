"""The rooms keep their promises (ARCHITECTURE.md), checked on the code itself.

"web/ never changes a ticket's state by writing the database": every change of a ticket goes
through its workflow. The check reads our Python in web/ (the server side; the browser cannot
write the database). web/static/vendor/ holds third-party scripts (Mermaid draws the process
diagram, and its "state" is a box in a picture), not ours, so it is not read.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
#: What the projection alone writes about a ticket's place in its process.
TICKET_STATE = {"state", "state_label", "state_category", "event_seq", "process_version"}
#: Rooms the web must not import (it talks to workflows by name, through the facade).
FORBIDDEN_IMPORTS = ("workflows", "activities")


def state_writes(source: str, filename: str = "<source>") -> list[str]:
    """Places in ``source`` that write a ticket's state: an assignment to one of
    ``TICKET_STATE`` on any object, an UPDATE/INSERT of the tickets table, or
    ``.values(state=...)``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and part.attr in TICKET_STATE:
                    found.append(f"{filename}:{node.lineno} assigns .{part.attr}")
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else ""
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            first = node.args[0] if node.args else None
            if (name or attr) in ("update", "insert") and (
                isinstance(first, ast.Name) and first.id == "Ticket"
            ):
                found.append(f"{filename}:{node.lineno} {name or attr}(Ticket)")
            if attr == "values" and any(k.arg in TICKET_STATE for k in node.keywords):
                found.append(f"{filename}:{node.lineno} .values() sets a ticket state")
    return found


def web_sources() -> list[Path]:
    return sorted(p for p in WEB.rglob("*.py") if "vendor" not in p.parts)


def test_the_check_finds_each_kind_of_state_write() -> None:
    forged = (
        "ticket.state = 'closed'\n"
        "row.state_category += 'x'\n"
        "session.execute(update(Ticket).values(state='closed'))\n"
        "session.execute(insert(Ticket))\n"
    )
    assert len(state_writes(forged)) == 5
    assert state_writes("label = ticket.state_label\nform.state.data = 'x'\n") == [
        "<source>:2 assigns .state"
    ]


def test_web_never_writes_a_tickets_state() -> None:
    found = [
        hit
        for path in web_sources()
        for hit in state_writes(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_web_never_imports_workflow_or_activity_code() -> None:
    found = []
    for path in web_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                if name.split(".")[0] in FORBIDDEN_IMPORTS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert found == []
