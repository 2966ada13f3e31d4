"""Entitlements: what a customer's contracts allow (cases or hours, maybe only on some
channels) and what tickets used of it.

**Exactly once (decision).** A ticket's use of an entitlement is one row keyed by (ticket
number, entitlement id) whose amount is *set* (1 case, or the ticket's minutes of time spent),
never added to: an activity retried, a ticket reopened and resolved again, or a projection
written twice count nothing more. A ticket uses one entitlement per unit: the first that
applies and is not exhausted (else the first that applies, which then goes below zero).

**When (per entitlement).** ``counts_on="open"``: when the opening is projected (cases: 1;
hours: the ticket's time spent, kept up to date as agents record it). ``"resolve"``: when a
projection shows the ticket resolved (cases: 1; hours: the time spent by then).

**Exhausted (per entitlement).** ``warn``: the ticket opens and its "created" event carries
the warning. ``block``: the web form and the API refuse a new ticket (422); mail and phone
are never dropped, so their tickets open and the "created" event records that the block was
passed over. Customers without contracts get no entitlement data at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tempodesk.core.db import upsert
from tempodesk.core.models import (
    Contact,
    Contract,
    Entitlement,
    EntitlementUse,
    Organisation,
    SlaPolicy,
)
from tempodesk.sla.contracts import contracts_of, entitlements_of, valid_on

REFUSING_CHANNELS = ("web", "api")  # the channels a blocking entitlement may refuse
EXHAUSTED = (
    "Your contract's entitlement is used up: no new requests can be filed this way. "
    "Please contact us by email or phone."
)


@dataclass
class Balance:
    """An entitlement with what is used of it; amounts in the unit (hours as minutes)."""

    entitlement: Entitlement
    used: int  # cases, or minutes

    @property
    def allowed(self) -> int:
        e = self.entitlement
        return e.allocation * 60 if e.unit == "hours" else e.allocation

    @property
    def remaining(self) -> int:
        return self.allowed - self.used

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0

    @property
    def remaining_text(self) -> str:
        """ "3" (cases) or "2.5" (hours)."""
        if self.entitlement.unit == "hours":
            return f"{self.remaining / 60:g}"
        return str(self.remaining)

    def as_json(self) -> dict[str, Any]:
        e = self.entitlement
        return {
            "name": e.name,
            "unit": e.unit,
            "allocation": e.allocation,
            "channels": list(e.channels or []),
            "valid_from": e.valid_from.isoformat() if e.valid_from else None,
            "valid_until": e.valid_until.isoformat() if e.valid_until else None,
            "counts_on": e.counts_on,
            "on_exhausted": e.on_exhausted,
            "used": self.used if e.unit == "cases" else round(self.used / 60, 2),
            "remaining": self.remaining if e.unit == "cases" else round(self.remaining / 60, 2),
        }


def balance(session: Session, entitlement: Entitlement) -> Balance:
    used = session.scalar(
        select(func.coalesce(func.sum(EntitlementUse.amount), 0)).where(
            EntitlementUse.entitlement_id == entitlement.id
        )
    )
    return Balance(entitlement, int(used or 0))


def applicable(session: Session, contact: Contact | None, channel: str, day: date) -> list[Balance]:
    """The entitlements of the customer's valid contracts that apply on the day and channel."""
    found = []
    for contract in contracts_of(session, contact, day):
        for e in entitlements_of(session, contract.id):
            if valid_on(day, e.valid_from, e.valid_until) and (
                not e.channels or channel in e.channels
            ):
                found.append(balance(session, e))
    return found


def refusal(session: Session, contact: Contact | None, channel: str, day: date) -> str | None:
    """Why a new ticket on this channel is refused (None: it is not): every entitlement that
    applies is exhausted and one of them blocks. Only the web form and the API refuse."""
    if channel not in REFUSING_CHANNELS:
        return None
    found = applicable(session, contact, channel, day)
    blocking = any(b.entitlement.on_exhausted == "block" for b in found)
    if found and blocking and all(b.exhausted for b in found):
        return EXHAUSTED
    return None


def _chosen(found: list[Balance], counts_on: str) -> list[Balance]:
    """Per unit, the first entitlement counting at this moment that is not exhausted (else
    the first)."""
    chosen = []
    for unit in ("cases", "hours"):
        candidates = [
            b for b in found if b.entitlement.unit == unit and b.entitlement.counts_on == counts_on
        ]
        if candidates:
            chosen.append(next((b for b in candidates if not b.exhausted), candidates[0]))
    return chosen


def _use(session: Session, number: str, entitlement_id: int, amount: int) -> None:
    upsert(
        session,
        EntitlementUse,
        {"ticket_number": number, "entitlement_id": entitlement_id, "amount": amount},
        on=["ticket_number", "entitlement_id"],
        update=["amount"],
    )


def account_opening(
    session: Session, number: str, contact_id: int | None, channel: str, day: date
) -> list[dict[str, Any]]:
    """Count the new ticket against the entitlements counting at the opening; what the
    "created" event records (empty: the customer has no entitlement that applies)."""
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    found = applicable(session, contact, channel, day)
    if not found:
        return []
    notes = []
    chosen = {c.entitlement.id for c in _chosen(found, "open")}
    for b in found:
        exhausted_before = b.exhausted
        if b.entitlement.id in chosen:
            _use(session, number, b.entitlement.id, 1 if b.entitlement.unit == "cases" else 0)
            b = balance(session, b.entitlement)
        note: dict[str, Any] = {
            "name": b.entitlement.name,
            "unit": b.entitlement.unit,
            "remaining": b.remaining_text,
        }
        if exhausted_before:
            note["exhausted"] = b.entitlement.on_exhausted  # "warn" or "block" passed over
        notes.append(note)
    return notes


def account_projection(
    session: Session, number: str, contact_id: int | None, channel: str, resolved: bool,
    time_spent: int, day: date,
) -> None:  # fmt: skip
    """What a projection changes: hours already counted follow the time spent; a resolved
    ticket counts against the entitlements counting at resolution (once)."""
    uses = session.execute(
        select(EntitlementUse, Entitlement)
        .join(Entitlement, Entitlement.id == EntitlementUse.entitlement_id)
        .where(EntitlementUse.ticket_number == number)
    ).all()
    for use, entitlement in uses:
        if entitlement.unit == "hours" and use.amount != time_spent:
            use.amount = time_spent
    if not resolved or contact_id is None:
        return
    counted = {entitlement.id for _use_row, entitlement in uses}
    contact = session.get(Contact, contact_id)
    for b in _chosen(applicable(session, contact, channel, day), "resolve"):
        if b.entitlement.id not in counted:
            amount = 1 if b.entitlement.unit == "cases" else time_spent
            _use(session, number, b.entitlement.id, amount)


def ticket_balances(
    session: Session, number: str, contact_id: int | None, channel: str, day: date
) -> list[Balance]:
    """What the ticket page shows: the entitlements that apply to the ticket's customer and
    channel, and any this ticket used."""
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    found = applicable(session, contact, channel, day)
    used_ids = set(
        session.scalars(
            select(EntitlementUse.entitlement_id).where(EntitlementUse.ticket_number == number)
        )
    )
    known = {b.entitlement.id for b in found}
    for entitlement_id in sorted(used_ids - known):
        entitlement = session.get(Entitlement, entitlement_id)
        if entitlement is not None:
            found.append(balance(session, entitlement))
    return found


def contract_json(session: Session, contract: Contract) -> dict[str, Any]:
    """A contract as the API shows it, with each entitlement's use and remainder."""
    policy = session.get(SlaPolicy, contract.policy_id) if contract.policy_id else None
    contact = session.get(Contact, contract.contact_id) if contract.contact_id else None
    organisation = (
        session.get(Organisation, contract.organisation_id) if contract.organisation_id else None
    )
    return {
        "reference": contract.reference,
        "name": contract.name,
        "customer": {"email": contact.email, "name": contact.name} if contact else None,
        "organisation": organisation.name if organisation else None,
        "valid_from": contract.valid_from.isoformat(),
        "valid_until": contract.valid_until.isoformat() if contract.valid_until else None,
        "policy": policy.name if policy else None,
        "entitlements": [
            balance(session, e).as_json() for e in entitlements_of(session, contract.id)
        ],
    }
