"""A ticket's service levels: the policy pinned when it opened (or re-selected since) and the
clock of each target, carried in the ticket's snapshot across continue-as-new."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The targets, in the order lists and the API show them.
SLA_TARGETS = ("first_response", "next_response", "resolution")
#: What may happen on a warning or a breach.
SLA_ACTION_KINDS = ("notify", "escalate", "raise_priority", "perform")


@dataclass
class SlaAction:
    """One action on a warning or a breach: ``notify`` (``template`` to ``to``: assignee,
    group or supervisor), ``escalate`` (to ``group``), ``raise_priority`` or ``perform``
    (the process action ``action``, as the system)."""

    kind: str
    template: str = ""
    to: str = ""
    group: str = ""
    action: str = ""


@dataclass
class PinnedSla:
    """The policy a ticket runs under, with its calendar's document: the workflow computes
    every deadline from this alone. ``targets`` are seconds of business time."""

    policy_id: int
    policy_name: str
    calendar: dict[str, Any]
    targets: dict[str, int] = field(default_factory=dict)
    warn_percent: int = 80
    on_warning: list[SlaAction] = field(default_factory=list)
    on_breach: list[SlaAction] = field(default_factory=list)
    revision: str = ""  # changes whenever the policy or its calendar does


@dataclass
class SlaClock:
    """One target's current cycle. Running: ``used_seconds`` of business time before
    ``running_since``, due at ``due_at``. Paused: ``used_seconds`` kept, no due moment."""

    target: str
    state: str  # running | paused | met | breached
    cycle: int = 1
    started_at: str = ""
    running_since: str = ""
    used_seconds: int = 0
    due_at: str = ""
    warn_at: str = ""
    warned: bool = False
    breached: bool = False
    met_at: str = ""
    breached_by_seconds: int = 0  # frozen once met; a running breach grows until then


@dataclass
class SlaState:
    """What the workflow keeps about service levels: the pinned policy, one clock per
    target (none before it starts or without a policy), and the facts the clocks follow."""

    policy: PinnedSla | None = None
    clocks: list[SlaClock] = field(default_factory=list)
    replied: bool = False  # a public reply has gone to the customer
    awaiting_reply: bool = False  # the customer wrote after the last public reply

    def clock(self, target: str) -> SlaClock | None:
        return next((c for c in self.clocks if c.target == target), None)


@dataclass
class SelectSlaInput:
    """What a policy's conditions look at; ``contact_id`` leads to the organisation."""

    number: str
    priority: int = 2
    channel: str = ""
    process_name: str = ""
    group: str | None = None
    contact_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class SelectSlaResult:
    sla: PinnedSla | None = None


@dataclass
class SlaChangedInput:
    """A fact: a policy or calendar changed; the ticket selects its policy again."""

    reason: str = ""
