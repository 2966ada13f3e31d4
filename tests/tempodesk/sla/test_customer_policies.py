"""Choosing a ticket's policy by the customer: its type (a contact's own, else its
organisation's) and its contracts (a valid contract's policy wins over every condition)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session

from tempodesk.contracts import SelectSlaInput
from tempodesk.core.models import Contact, Contract, Organisation
from tempodesk.sla.contracts import ContractData, save_customer_type, upsert_contract
from tempodesk.sla.policies import PolicyForm, save_calendar, save_policy, select_policy
from tests.helpers import Stack

ALWAYS = {"time_zone": "UTC", "hours": {"mon": ["00:00-24:00"]}}


@pytest.fixture
def session(stack: Stack) -> Iterator[Session]:
    """A session whose changes are never committed: the shared database stays as it was."""
    with stack.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def policy(session: Session, name: str, position: int, **conditions: object) -> None:
    save_policy(
        session,
        PolicyForm(name, "Test always", {"resolution": "1h"}, dict(conditions), position=position),
        "admin",
        None,
    )


def facts(contact: Contact) -> SelectSlaInput:
    return SelectSlaInput("HD-TEST", priority=2, channel="email", contact_id=contact.id)


def customer(session: Session, organisation: Organisation | None = None) -> Contact:
    contact = Contact(email=f"type-{uuid.uuid4().hex[:10]}@example.com", name="Typ")
    contact.organisation = organisation
    session.add(contact)
    session.flush()
    return contact


def test_a_policy_for_a_customer_type_matches_a_contact_of_a_premium_organisation(
    session: Session,
) -> None:
    kind = f"gold{uuid.uuid4().hex[:6]}"
    save_customer_type(session, kind, "Gold")
    save_calendar(session, "Test always", ALWAYS, "admin", None)
    policy(session, "Gold customers", -100, customer_type=[kind])
    organisation = Organisation(name=f"Gold Ltd {uuid.uuid4().hex[:6]}", customer_type=kind)
    session.add(organisation)
    member, other = customer(session, organisation), customer(session)
    assert (chosen := select_policy(session, facts(member))) is not None
    assert chosen.policy_name == "Gold customers"
    assert (fallback := select_policy(session, facts(other))) is None or (
        fallback.policy_name != "Gold customers"
    )
    member.customer_type = "standard-x"  # the contact's own type wins over its organisation's
    assert (own := select_policy(session, facts(member))) is None or (
        own.policy_name != "Gold customers"
    )


def test_a_valid_contracts_policy_wins_over_the_conditions(session: Session) -> None:
    save_calendar(session, "Test always", ALWAYS, "admin", None)
    policy(session, "Any contract", -100, contract=True)
    policy(session, "Contract policy", 999, priority=[4])  # its conditions never match here
    contact = customer(session)
    reference = f"C-{uuid.uuid4().hex[:8]}"
    data = ContractData(reference, valid_from=date(2020, 1, 1), customer_email=contact.email or "")
    row, _ = upsert_contract(session, data, "admin")
    assert (chosen := select_policy(session, facts(contact))) is not None
    assert chosen.policy_name == "Any contract"  # the condition "has a valid contract"
    data.policy = "Contract policy"
    upsert_contract(session, data, "admin")
    assert (chosen := select_policy(session, facts(contact))) is not None
    assert chosen.policy_name == "Contract policy"
    expired = session.get(Contract, row.id)
    assert expired is not None
    expired.valid_until = date(2021, 1, 1)  # no longer valid: neither the policy nor the condition
    chosen = select_policy(session, facts(contact))
    assert chosen is None or chosen.policy_name not in ("Contract policy", "Any contract")


def test_a_policy_condition_on_contract_references_and_customer_types_is_checked(
    session: Session,
) -> None:
    from tempodesk.sla.policies import check_policy

    save_calendar(session, "Test always", ALWAYS, "admin", None)
    form = PolicyForm("Odd", "Test always", {"resolution": "1h"}, {"contract": "yes"})
    assert check_policy(session, form) == [
        "conditions.contract: true, false or a list of contract references"
    ]
    form.conditions = {"customer_type": "premium"}
    assert check_policy(session, form) == ["conditions.customer_type: must be a list of values"]
