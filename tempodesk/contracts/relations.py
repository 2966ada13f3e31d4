"""Tickets in relation to each other: one merged into another."""

from __future__ import annotations

from dataclasses import dataclass

from tempodesk.contracts.tickets import Actor, TicketLinkRef

#: The state (and state category) a merged ticket ends in, whatever its process: merging is
#: not a process action, so no definition needs to name it.
MERGED = "merged"


@dataclass
class MergeTicketInput:
    """Asked of the ticket that goes (an Update): merge into ticket ``into``."""

    into: str
    actor: Actor


@dataclass
class MergeTicketResult:
    into: str
    seq: int  # the merged ticket's "merged" event


@dataclass
class AbsorbTicketInput:
    """Told to the ticket that stays (a signal from the merged ticket's workflow): ticket
    ``number`` is merged into you. Its messages move to you (the projection); the same
    ticket told twice is absorbed once."""

    number: str
    subject: str = ""
    actor: str = ""


#: How a ticket sees another it is linked to, and how that other sees it back.
LINK_INVERSE = {
    "related": "related",
    "duplicate_of": "duplicated_by",
    "duplicated_by": "duplicate_of",
    "parent": "child",
    "child": "parent",
}
LINK_KINDS = tuple(LINK_INVERSE)


@dataclass
class LinkTicketInput:
    """Asked of a ticket (an Update): link to ticket ``other`` as ``kind`` (``other`` is
    this ticket's parent, child, related, duplicate_of or duplicated_by); ``remove``:
    unlink. ``other_open``: whether the other ticket is open now (a child a parent must
    wait for), read from the projection by the caller."""

    other: str
    kind: str
    actor: Actor
    remove: bool = False
    wait: bool = False
    other_open: bool = True


@dataclass
class LinkTicketResult:
    links: list[TicketLinkRef]
    seq: int


@dataclass
class LinkedInput:
    """Told to the other ticket (a signal from the asking ticket's workflow)."""

    number: str
    kind: str  # how the receiver sees ``number``
    actor: str = ""
    remove: bool = False
    wait: bool = False
    open: bool = True  # whether ``number`` (a child) is open


@dataclass
class ChildSettledInput:
    """Told by a child to its parent: it is resolved (``open`` False) or open again."""

    number: str
    open: bool


@dataclass
class TagTicketInput:
    """Asked of a ticket (an Update): add and remove tags (already normalised)."""

    add: list[str]
    remove: list[str]
    actor: Actor


@dataclass
class TagTicketResult:
    tags: list[str]
    seq: int


#: A tag is at most this long (the ``ticket_tags.tag`` column).
TAG_MAX = 40


def normalise_tag(text: str) -> str:
    """A tag as it is kept: trimmed, lower case, inner spaces as dashes, at most ``TAG_MAX``
    characters ("" for nothing usable). The web, the API and triggers all give tags so."""
    words = "".join(c if c.isalnum() or c in "-_." else " " for c in text.strip().casefold())
    return "-".join(words.split())[:TAG_MAX].strip("-")


@dataclass
class SplitMessageInput:
    """Asked of a ticket (an Update): message ``message_id`` is split off into the new ticket
    ``into``, whose opening message ``copy_id`` holds its text; the projection moves the rest
    (attachments, Message-ID, the raw mail) there and removes it here."""

    message_id: int
    into: str
    copy_id: int
    actor: Actor


@dataclass
class SplitMessageResult:
    into: str
    seq: int


@dataclass
class SplitInInput:
    """Told to the new ticket (a signal): it was split off ticket ``number``."""

    number: str
    message_id: int
    actor: str = ""
