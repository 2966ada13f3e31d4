"""Published process definitions: immutable versions in the database, read through a cache."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statemachines import (
    ProcessDefinition,
    bundled,
    compile_definition,
    from_json,
    load_text,
)
from tempodesk.contracts import PinnedProcess
from tempodesk.models import Group, ProcessVersion

BUNDLED = ("support",)


class UnknownProcess(LookupError):
    pass


def publish(session: Session, text: str, author: str = "") -> ProcessVersion:
    """Validate a definition (YAML/JSON text) against the known groups and publish a version.

    Raises DefinitionError with every problem; publishing the same document as the latest
    version again is a no-op that returns the latest version.
    """
    groups = session.scalars(select(Group.name)).all()
    definition = load_text(text, known_groups=groups)
    compile_definition(definition)
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
    return version


def latest(session: Session, name: str) -> ProcessVersion | None:
    newest = select(func.max(ProcessVersion.version)).where(ProcessVersion.name == name)
    return session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.name == name)
        .where(ProcessVersion.version == newest.scalar_subquery())
    )


def pin(session: Session, name: str) -> PinnedProcess:
    """The newest version of a process, to pin into a ticket that starts now."""
    version = latest(session, name)
    if version is None:
        raise UnknownProcess(f"No process named '{name}' is published.")
    return PinnedProcess(name=version.name, version=version.version, document=version.document)


def definition(session: Session, name: str, version: int) -> ProcessDefinition:
    """A published version's definition (cached: versions never change)."""
    document = session.scalar(
        select(ProcessVersion.document)
        .where(ProcessVersion.name == name)
        .where(ProcessVersion.version == version)
    )
    if document is None:
        raise UnknownProcess(f"Process {name} version {version} is not published.")
    return _parse(document)


@lru_cache(maxsize=128)
def _parse(document: str) -> ProcessDefinition:
    return from_json(document)


def ensure_bundled(session: Session) -> list[ProcessVersion]:
    """Publish the processes shipped with Tempodesk if the database has no version of them."""
    published = []
    for name in BUNDLED:
        if latest(session, name) is None:
            published.append(publish(session, bundled(name), author="tempodesk"))
    return published
