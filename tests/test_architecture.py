"""The rooms keep their promises (ARCHITECTURE.md), checked on the code itself.

- **Import contracts** (``[tool.importlinter]`` in pyproject.toml, run by ``make lint``): each
  one is shown to break on a forged violation, in a copy of the code.
- **The web never writes a ticket**: every change of a ticket goes through its workflow. The
  check reads every module of ours the web imports, directly or through the domain packages
  (the import graph says which), for writes to a ticket's state fields, UPDATE/INSERT of the
  tickets table or ``.values(state=...)``. Named functions are allowed (``ALLOWED_WRITES``).
  web/static/vendor/ holds third-party scripts (Mermaid's "state" is a box in a picture): not
  Python, not read.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tempodesk", "web", "workflows", "activities", "statemachines")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: What the projection alone writes about a ticket's place in its process.
TICKET_STATE = {"state", "state_label", "state_category", "event_seq", "process_version"}
#: The one write to the tickets table reachable from the web (see its docstring).
ALLOWED_WRITES = {
    "tempodesk.people.merge.relink_ended_tickets",
    # Forgetting a person deletes their open tickets' workflows: no workflow is left to ask,
    # so the row goes to its process's closed state (ARCHITECTURE.md, "Personal data").
    "tempodesk.privacy.forget._close",
}


def state_writes(source: str, filename: str = "<source>") -> list[tuple[str, str]]:
    """(function, what) for each place in ``source`` that writes a ticket's state: an
    assignment to one of ``TICKET_STATE`` on any object, an UPDATE/INSERT of the tickets
    table, or ``.values(state=...)``. ``function`` is the enclosing function's dotted name
    within the module ("" at module level)."""
    return [
        (scope, f"{filename}:{getattr(node, 'lineno', 0)} {hit}")
        for scope, node in scoped(ast.parse(source, filename))
        if (hit := _write(node))
    ]


def scoped(tree: ast.AST, scope: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Every node below ``tree`` with the dotted name of the function or class it is in (a
    definition is in itself)."""
    for child in ast.iter_child_nodes(tree):
        name = scope
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{scope}.{child.name}" if scope else child.name
        yield name, child
        yield from scoped(child, name)


#: SQL that writes the tickets table, written as text.
SQL_WRITE = re.compile(r"\b(update|insert\s+into|delete\s+from)\s+tickets\b", re.IGNORECASE)
#: Calls that write the rows of the model given as an argument.
WRITERS = {"update", "insert", "upsert", "delete"}


def _is_ticket(node: ast.AST | None) -> bool:
    """``Ticket`` or ``something.Ticket``."""
    return (isinstance(node, ast.Name) and node.id == "Ticket") or (
        isinstance(node, ast.Attribute) and node.attr == "Ticket"
    )


def _write(node: ast.AST) -> str:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    for target in targets:
        for part in ast.walk(target):
            if isinstance(part, ast.Attribute) and part.attr in TICKET_STATE:
                return f"assigns .{part.attr}"
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and SQL_WRITE.search(node.value)
    ):
        return "SQL writing tickets"
    if not isinstance(node, ast.Call):
        return ""
    name = node.func.id if isinstance(node.func, ast.Name) else ""
    attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
    if (name or attr) in WRITERS and any(_is_ticket(arg) for arg in node.args[:2]):
        return f"{name or attr}(Ticket)"
    if _is_ticket(node.func):
        return "Ticket(...): a new ticket row"
    if attr == "values" and any(k.arg in TICKET_STATE for k in node.keywords):
        return ".values() sets a ticket state"
    if name == "setattr" and len(node.args) > 1:
        field = node.args[1]
        if isinstance(field, ast.Constant) and field.value in TICKET_STATE:
            return f"setattr(..., {field.value!r})"
    return ""


def modules_the_web_reaches() -> list[str]:
    """web and every module of ours it imports, directly or not (third-party ones aside)."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    reached = graph.find_upstream_modules("web", as_package=True) | {
        m for m in graph.modules if m == "web" or m.startswith("web.")
    }
    return sorted(m for m in reached if m.split(".")[0] in PACKAGES)


def source_of(module: str) -> Path:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_the_check_finds_each_kind_of_state_write() -> None:
    forged = (
        "ticket.state = 'closed'\n"
        "row.state_category += 'x'\n"
        "def close(session):\n"
        "    session.execute(update(Ticket).values(state='closed'))\n"
        "class Store:\n"
        "    def add(self, session):\n"
        "        session.execute(insert(Ticket))\n"
    )
    found = state_writes(forged)
    assert [scope for scope, _ in found] == ["", "", "close", "close", "Store.add"]
    assert state_writes("label = ticket.state_label\nform.state.data = 'x'\n") == [
        ("", "<source>:2 assigns .state")
    ]
    # The project's own upsert helper, a qualified model, a new row, raw SQL, setattr.
    more = (
        "upsert(session, Ticket, {'state': 'closed'}, on=['number'])\n"
        "session.execute(sa.update(models.Ticket))\n"
        "session.add(Ticket(number='X'))\n"
        "session.execute(text('UPDATE tickets SET state = 1'))\n"
        "setattr(row, 'state', 'closed')\n"
        "select(Ticket).where(Ticket.state == 'open')\n"
    )
    assert [hit.split(" ", 1)[1] for _, hit in state_writes(more)] == [
        "upsert(Ticket)",
        "update(Ticket)",
        "Ticket(...): a new ticket row",
        "SQL writing tickets",
        "setattr(..., 'state')",
    ]


def test_nothing_the_web_reaches_writes_a_ticket_but_the_one_named_exception() -> None:
    modules = modules_the_web_reaches()
    assert "tempodesk.people.merge" in modules and "tempodesk.tickets.intake" in modules
    assert not any(m.startswith(("workflows", "activities")) for m in modules)
    found, allowed = [], []
    for module in modules:
        path = source_of(module)
        for scope, hit in state_writes(path.read_text(encoding="utf-8"), module):
            (allowed if f"{module}.{scope}" in ALLOWED_WRITES else found).append(hit)
    assert found == []
    assert allowed, "the named exception no longer writes; remove it from ALLOWED_WRITES"


# ---------------------------------------------------------------- the import contracts

#: A forged violation per contract of pyproject.toml: files added to a copy of the code.
FORGED = {
    "layers": {"tempodesk/core/forged.py": "from tempodesk.tickets import intake\n"},
    "layers (web does not reach workflows)": {"web/forged.py": "import workflows.ticket\n"},
    "pure": {"workflows/forged.py": "import socket\n"},
    "pure (no randomness or failpoints in workflows)": {
        "workflows/forged.py": "import random\nfrom tempodesk.core import failpoints\n"
    },
    "pure (no database in statemachines)": {
        "statemachines/forged.py": "from tempodesk.core import models\n"
    },
    "acyclic": {
        "tempodesk/people/forged_a.py": "from tempodesk.people import forged_b\n",
        "tempodesk/people/forged_b.py": "from tempodesk.people import forged_a\n",
    },
}
CONTRACT_NAMES = {
    "layers": "Rooms in layers",
    "pure": "statemachines and workflows do no I/O",
    "acyclic": "No import cycles",
}


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda folder, names: (
                [n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()]
                + [n for n in names if n in ("__pycache__", "static", "templates", "translations")]
            ),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_import_contracts_hold_on_this_code(tmp_path: Path) -> None:
    result = lint_imports(copy_of_the_code(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("case", sorted(FORGED))
def test_each_import_contract_breaks_on_a_forged_violation(tmp_path: Path, case: str) -> None:
    tree = copy_of_the_code(tmp_path)
    for name, text in FORGED[case].items():
        (tree / name).write_text(text)
    result = lint_imports(tree)
    contract = CONTRACT_NAMES[case.split(" ")[0]]
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert result.returncode == 1
    assert [line for line in broken if line.startswith(contract)], result.stdout[-3000:]
    assert "forged" in result.stdout


# ---------------------------------------------------------------- one client per worker

#: Calls that build a Temporal client or a database engine (or something that holds one).
BUILDERS = {
    "connect",
    "Client",
    "TemporalFacade",
    "AsyncFacade",
    "Runtime",
    "make_engine",
    "create_engine",
}


def builder_calls(module: str) -> list[tuple[str, str]]:
    """(function, builder) for each call of a ``BUILDERS`` name in the module."""
    found = []
    for scope, node in scoped(ast.parse(source_of(module).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in BUILDERS:
                found.append((scope, called))
    return found


def test_a_worker_process_holds_one_client_and_one_engine() -> None:
    """run_worker connects one client and makes one engine; nothing its workflows and
    activities reach builds another (the facade's lazy connect is reached only through a
    facade, and none is built there)."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    reached = sorted(
        m
        for m in graph.find_upstream_modules("tempodesk.app.worker") | {"tempodesk.app.worker"}
        if m.split(".")[0] in PACKAGES
    )
    assert not any(m.startswith("web") or m == "tempodesk.app.runtime" for m in reached)
    calls = {m: builder_calls(m) for m in reached}
    assert sorted(calls.pop("tempodesk.app.worker")) == [
        ("run_worker", "AsyncFacade"),  # on the client just connected
        ("run_worker", "connect"),  # tempodesk.core.temporal_client's, the one way in
        ("run_worker", "make_engine"),
    ]
    # The door wraps the worker's own client (Dispatch.client), never a new one.
    assert sorted(calls.pop("activities.dispatch")) == [
        ("Dispatch.delete_workflows", "AsyncFacade"),  # forgotten tickets' histories
        ("Dispatch.poll_mailbox", "AsyncFacade"),
        ("Dispatch.wake_webhooks", "AsyncFacade"),  # waking webhook deliveries' workflows
    ]
    assert calls.pop("tempodesk.core.temporal") == [
        ("TemporalFacade.connected", "connect"),
        ("TemporalFacade.connected", "AsyncFacade"),
    ]
    assert calls.pop("tempodesk.core.temporal_client") == [("connect", "connect")]
    assert calls.pop("tempodesk.core.db") == [("make_engine", "create_engine")] * 2
    # temporalio's Runtime (not ours) that the one client runs on when metrics are exported.
    assert calls.pop("tempodesk.app.worker_metrics") == [("sdk_runtime", "Runtime")]
    assert {m: c for m, c in calls.items() if c} == {}


# ---------------------------------------------------------------- rooms stay small

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
#: Modules or functions ("module:function") over the limits, each with its reason; the same
#: list is in ARCHITECTURE.md ("Sizes"). Empty is the goal.
OVERSIZE: dict[str, str] = {}


def application_modules() -> list[Path]:
    return sorted(
        p
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts
    )


def test_no_module_over_600_lines_and_no_function_over_60() -> None:
    over = []
    for path in application_modules():
        name = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES and name not in OVERSIZE:
            over.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and f"{name}:{node.name}" not in OVERSIZE:
                    over.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert over == []
