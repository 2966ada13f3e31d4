"""Published process definitions: immutable versions, drafts being edited, and the checks that
need the database (groups, templates) on top of the pure ones in ``statemachines``."""

from __future__ import annotations

import difflib
import hashlib
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statemachines import (
    DefinitionError,
    Problem,
    ProcessDefinition,
    bundled,
    compile_definition,
    from_json,
    load_text,
    may_see,
    parse_definition,
    read_yaml,
    to_yaml,
)
from tempodesk.contracts import Actor, PinnedProcess
from tempodesk.core import limits
from tempodesk.core.models import Group, ProcessDraft, ProcessVersion, Ticket, utcnow
from tempodesk.messaging import templates
from tempodesk.messaging.sandbox import TemplateProblem, render

BUNDLED = ("support", "returns")
BUNDLED_AUTHOR = "tempodesk"


class UnknownProcess(LookupError):
    pass


@dataclass
class Checked:
    """The result of checking a document: the definition if it parsed, and every problem."""

    definition: ProcessDefinition | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.definition is not None and not self.problems


def check(session: Session, text: str) -> Checked:
    """Every rule: structure, graph, groups, templates (exist, render against a sample ticket,
    read only fields some action sets), and that python-statemachine can build and start it."""
    groups = session.scalars(select(Group.name)).all()
    known = {t.name: t for t in templates.all_templates(session)}
    try:
        definition = load_text(text, known_groups=groups, known_templates=known)
    except DefinitionError as exc:
        return Checked(None, exc.problems)
    problems = column_problems(definition)
    try:
        compile_definition(definition)
    except DefinitionError as exc:
        problems.extend(exc.problems)
    sample = templates.sample_context(definition)
    fields_set = definition.fields_set()
    reported: set[tuple[str, str]] = set()
    for location, name in definition.templates_used():
        template = known[name]
        for text_row in template.texts:
            for part, source in (("subject", text_row.subject), ("body", text_row.body)):
                for field in sorted(templates.referenced_fields(source) - fields_set):
                    if (name, field) not in reported:
                        reported.add((name, field))
                        problems.append(
                            Problem(
                                location,
                                f"The template '{name}' uses the field '{field}', which no "
                                "action sets.",
                            )
                        )
                try:
                    render(source, sample)
                except TemplateProblem as exc:
                    problems.append(
                        Problem(
                            location,
                            f"The template '{name}' ({text_row.language} {part}) does not render "
                            f"against a sample ticket: {exc}",
                        )
                    )
    return Checked(definition, problems)


def column_problems(definition: ProcessDefinition) -> list[Problem]:
    """What a ticket would have to store that its column cannot hold (a state's label goes
    into every ticket entering that state): refused at save, not when a ticket gets there."""
    problems = [
        Problem("name", message)
        for message in [limits.too_long(definition.name, ProcessVersion.name)]
        if message
    ]
    for state in definition.states:
        for value, column in ((state.id, Ticket.state), (state.label, Ticket.state_label)):
            message = limits.too_long(value, column)
            if message:
                what = "label" if column is Ticket.state_label else "id"
                problems.append(Problem(f"states.{state.id}", f"The {what} is too long: {message}"))
    return problems


def publish(session: Session, text: str, author: str = "") -> ProcessVersion:
    """Check a definition and publish it as a new immutable version.

    Raises DefinitionError with every problem. Publishing the same document as the latest
    version again is a no-op that returns the latest version.
    """
    checked = check(session, text)
    if not checked.ok or checked.definition is None:
        raise DefinitionError(checked.problems)
    definition = checked.definition
    document = definition.to_json()
    checksum = hashlib.sha256(document.encode()).hexdigest()
    current = latest(session, definition.name)
    if current is not None and current.checksum == checksum:
        return current
    version = ProcessVersion(
        name=definition.name,
        version=(current.version + 1) if current else 1,
        document=document,
        checksum=checksum,
        created_by=author,
    )
    session.add(version)
    session.flush()
    draft = session.get(ProcessDraft, definition.name)
    if draft is not None:
        session.delete(draft)
    return version


def latest(session: Session, name: str) -> ProcessVersion | None:
    newest = select(func.max(ProcessVersion.version)).where(ProcessVersion.name == name)
    return session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.name == name)
        .where(ProcessVersion.version == newest.scalar_subquery())
    )


def versions(session: Session, name: str) -> list[ProcessVersion]:
    return list(
        session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.name == name)
            .order_by(ProcessVersion.version.desc())
        )
    )


def names(session: Session) -> list[str]:
    return list(
        session.scalars(select(ProcessVersion.name).distinct().order_by(ProcessVersion.name))
    )


def get_version(session: Session, name: str, version: int) -> ProcessVersion:
    row = session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.name == name)
        .where(ProcessVersion.version == version)
    )
    if row is None:
        raise UnknownProcess(f"Process {name} version {version} is not published.")
    return row


def pin(session: Session, name: str) -> PinnedProcess:
    """The newest version of a process, to pin into a ticket that starts now."""
    version = latest(session, name)
    if version is None:
        raise UnknownProcess(f"No process named '{name}' is published.")
    return PinnedProcess(name=version.name, version=version.version, document=version.document)


def pin_version(session: Session, name: str, version: int) -> PinnedProcess:
    row = get_version(session, name, version)
    return PinnedProcess(name=row.name, version=row.version, document=row.document)


#: Published definitions by engine (one database each), then (name, version): a version
#: never changes once published, so an action's checks and its answer need not read its
#: document again. Weak: an engine dropped (tests make many) takes its entries with it.
_DEFINITIONS: weakref.WeakKeyDictionary[Any, dict[tuple[str, int], ProcessDefinition]] = (
    weakref.WeakKeyDictionary()
)


def definition(session: Session, name: str, version: int) -> ProcessDefinition:
    """A published version's definition (cached: versions never change)."""
    engine = session.get_bind()
    cached = _DEFINITIONS.get(engine)
    if cached is None:
        cached = _DEFINITIONS.setdefault(engine, {})
    found = cached.get((name, version))
    if found is None:
        found = _parse(get_version(session, name, version).document)
        cached[(name, version)] = found
    return found


def published_stamp(session: Session) -> str:
    """Changes whenever a version is published (for caches of what the versions say)."""
    count, newest = session.execute(
        select(func.count(ProcessVersion.id), func.max(ProcessVersion.id))
    ).one()
    return f"{count}-{newest or 0}"


def published(session: Session) -> list[tuple[str, int, ProcessDefinition]]:
    """Every published version with its definition (by name, newest first): one read of
    the names, the definitions from the cache (a version's document read once)."""
    rows = session.execute(
        select(ProcessVersion.name, ProcessVersion.version).order_by(
            ProcessVersion.name, ProcessVersion.version.desc()
        )
    ).all()
    return [(name, version, definition(session, name, version)) for name, version in rows]


def published_definitions(session: Session) -> list[ProcessDefinition]:
    """Every published version's definition, by name, the newest version first."""
    # One statement for all of them (the desk's list page asks twice per request).
    documents = session.scalars(
        select(ProcessVersion.document).order_by(ProcessVersion.name, ProcessVersion.version.desc())
    )
    return [_parse(document) for document in documents]


def state_colours(session: Session, actor: Actor) -> list[tuple[str, int, str, str]]:
    """``(process, version, state, colour)`` for every state of every published version
    that ``actor`` may see, the colour as the definition gives it (``#rrggbb``; its
    category's colour by default)."""
    rows = session.execute(
        select(ProcessVersion.name, ProcessVersion.version).order_by(
            ProcessVersion.name, ProcessVersion.version
        )
    ).all()
    found = []
    for name, version in rows:
        process = definition(session, name, version)
        for state in process.states:
            if state.colour and may_see(process, state.id, actor):
                found.append((name, version, state.id, state.colour))
    return found


@lru_cache(maxsize=128)
def _parse(document: str) -> ProcessDefinition:
    return from_json(document)


def parsed(document: str) -> ProcessDefinition:
    """A published version's stored document as its definition (cached: they never change)."""
    return _parse(document)


def export(session: Session, name: str, version: int | None = None) -> str:
    """A published version (the latest by default) as the YAML the expert editor shows."""
    row = latest(session, name) if version is None else get_version(session, name, version)
    if row is None:
        raise UnknownProcess(f"No process named '{name}' is published.")
    return to_yaml(_parse(row.document))


def draft_text(session: Session, name: str) -> str:
    """What the editor opens: the saved draft, else the latest version."""
    draft = session.get(ProcessDraft, name)
    return draft.document if draft is not None else export(session, name)


def check_draft(session: Session, name: str, text: str) -> Checked:
    """``check``, plus: the document is the process the editor edits (publishing it from
    another process's editor would publish the wrong process)."""
    checked = check(session, text)
    if checked.definition is not None and checked.definition.name != name:
        checked.problems.insert(
            0,
            Problem(
                "name",
                f"This editor edits '{name}'; the document is named '{checked.definition.name}'.",
            ),
        )
    return checked


def save_draft(session: Session, name: str, text: str, author: str) -> Checked:
    """Keep the editor's work (even with problems); report what would stop publishing."""
    checked = check_draft(session, name, text)
    draft = session.get(ProcessDraft, name)
    if draft is None:
        draft = ProcessDraft(name=name, document=text)
        session.add(draft)
    draft.document = text
    draft.updated_at = utcnow()
    draft.updated_by = author
    session.flush()
    return checked


def publish_draft(session: Session, name: str, text: str, author: str) -> ProcessVersion:
    """Publish what an editor of ``name`` holds; DefinitionError (nothing published) if it has
    any problem. The draft is gone afterwards, also when the text was the latest version."""
    checked = check_draft(session, name, text)
    if not checked.ok:
        raise DefinitionError(checked.problems)
    version = publish(session, text, author=author)
    discard_draft(session, name)
    return version


def draft(session: Session, name: str) -> ProcessDraft | None:
    return session.get(ProcessDraft, name)


def draft_names(session: Session) -> list[str]:
    """Processes with a draft, published or not."""
    return list(session.scalars(select(ProcessDraft.name).order_by(ProcessDraft.name)))


def exists(session: Session, name: str) -> bool:
    """A process is there once it has a published version or a draft."""
    return latest(session, name) is not None or draft(session, name) is not None


def discard_draft(session: Session, name: str) -> None:
    draft = session.get(ProcessDraft, name)
    if draft is not None:
        session.delete(draft)
        session.flush()


def diff(session: Session, name: str, old: int, new: int) -> list[str]:
    """A unified diff between two published versions' YAML."""
    before = export(session, name, old).splitlines()
    after = export(session, name, new).splitlines()
    return list(
        difflib.unified_diff(before, after, f"{name} v{old}", f"{name} v{new}", lineterm="")
    )


def diagram(text: str) -> str:
    """The Mermaid state diagram of a document, drawn by python-statemachine.

    Unfinished work is drawn too (a state nothing leads to yet, a dead end): the editors show
    the diagram while those are being fixed. DefinitionError if the document cannot be read.
    """
    return compile_definition(parse_definition(read_yaml(text), graph=False)).mermaid()


def ensure_bundled(session: Session) -> list[ProcessVersion]:
    """Publish the processes shipped with Tempodesk (and their templates) where the database
    has none, or a newer shipped revision where nobody but Tempodesk published the last one.
    An admin's own version is never replaced."""
    templates.ensure_bundled(session)
    published = []
    for name in BUNDLED:
        current = latest(session, name)
        if current is not None and current.created_by != BUNDLED_AUTHOR:
            continue
        version = publish(session, bundled(name), author=BUNDLED_AUTHOR)
        if current is None or version.id != current.id:
            published.append(version)
    return published
