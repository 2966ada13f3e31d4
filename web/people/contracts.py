"""The contract and entitlement panels on a contact's and an organisation's page: its customer
type, its contracts (validity, SLA policy) and each contract's entitlements with what is left.

Anyone who may see the customer sees the panel; changing it needs the customers right
(``require_customers_right``, as merging contacts and portal sharing do): contracts are
commercial terms. The rules are ``tempodesk.sla.contracts``; a problem is flashed.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from tempodesk.core.models import (
    Contact,
    Contract,
    Entitlement,
    Organisation,
    SlaPolicy,
    Ticket,
)
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.people.common import CustomerInvalid
from tempodesk.sla import contracts, entitlements
from tempodesk.sla.entitlements import balance
from tempodesk.tickets import customer_scope, queries
from web import db, runtime
from web.i18n import gettext as _
from web.people.blueprint import bp, current_actor, require_customers_right


@dataclass
class ContractRow:
    contract: Contract
    policy: str
    balances: list[entitlements.Balance]


@dataclass
class ContractPanel:
    kind: str  # contact | organisation
    holder_id: int
    customer_type: str | None
    inherited_type: str | None  # a contact's organisation's, shown when it has none of its own
    types: list[str]
    contracts: list[ContractRow] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    may_edit: bool = False


@bp.app_context_processor
def _contract_helpers() -> dict[str, Any]:
    return {"contract_panel": contract_panel, "entitlements_left": _entitlements_left}


def contract_panel(
    contact: Contact | None = None, organisation: Organisation | None = None
) -> ContractPanel:
    session = db()
    holder: Contact | Organisation | None = contact or organisation
    assert holder is not None
    inherited = None
    if contact is not None and contact.organisation is not None:
        inherited = contact.organisation.customer_type
    held = contracts.contracts_held(
        session,
        contact_id=contact.id if contact else None,
        organisation_id=organisation.id if organisation else None,
    )
    names = {row.id: row.name for row in session.execute(select(SlaPolicy.id, SlaPolicy.name))}
    return ContractPanel(
        kind="contact" if contact else "organisation",
        holder_id=holder.id,
        customer_type=holder.customer_type,
        inherited_type=inherited,
        types=[t.name for t in contracts.customer_types(session)],
        contracts=[
            ContractRow(
                c,
                names.get(c.policy_id, "") if c.policy_id else "",
                [balance(session, e) for e in contracts.entitlements_of(session, c.id)],
            )
            for c in held
        ],
        policies=sorted(names.values()),
        may_edit=customer_scope.sees_all_customers(current_actor()),
    )


def _entitlements_left(ticket: Ticket) -> list[entitlements.Balance]:
    return queries.entitlement_balances(ticket)


def _holder(kind: str, holder_id: int) -> Contact | Organisation:
    """The contact or organisation whose panel it is (404 if not visible); needs the right."""
    session, actor = db(), current_actor()
    if kind == "contact":
        found: Contact | Organisation | None = session.get(Contact, holder_id)
        visible = found is not None and customer_scope.may_see_contact(session, actor, holder_id)
    else:
        found = session.get(Organisation, holder_id)
        visible = found is not None and customer_scope.may_see_organisation(
            session, actor, holder_id
        )
    if found is None or not visible:
        abort(404)
    require_customers_right()
    return found


def _tell(holder: Contact | Organisation, reason: str) -> None:
    """The holder's open tickets choose their policy again (the signal ``sla_changed``)."""
    is_contact = isinstance(holder, Contact)
    numbers = contracts.open_tickets_of(
        db(),
        contact_id=holder.id if is_contact else None,
        organisation_id=None if is_contact else holder.id,
    )
    if numbers:
        with suppress(EngineUnavailable):  # saved; they take it at their next change
            runtime().temporal.sla_changed(numbers, reason)


def _back(holder: Contact | Organisation) -> Response:
    if isinstance(holder, Contact):
        return redirect(url_for("people.contact", contact_id=holder.id) + "#contracts")
    return redirect(url_for("people.organisation", organisation_id=holder.id) + "#contracts")


def _problems(exc: CustomerInvalid) -> None:
    db().rollback()
    for key, message in exc.errors.items():
        flash(f"{key}: {message}", "error")


@bp.route("/<any(contact, organisation):kind>s/<int:holder_id>/customer-type", methods=["POST"])
def customer_type(kind: str, holder_id: int) -> Any:
    holder = _holder(kind, holder_id)
    try:
        holder.customer_type = contracts.check_customer_type(db(), request.form.get("type", ""))
    except CustomerInvalid as exc:
        _problems(exc)
        return _back(holder)
    db().commit()
    _tell(holder, "customer type changed")
    flash(_("The customer type is saved."), "success")
    return _back(holder)


@bp.route("/<any(contact, organisation):kind>s/<int:holder_id>/contracts", methods=["POST"])
def contract_save(kind: str, holder_id: int) -> Any:
    holder = _holder(kind, holder_id)
    raw: dict[str, Any] = {
        k: request.form.get(k, "") for k in ("reference", "name", "valid_from", "policy")
    }
    raw["valid_until"] = request.form.get("valid_until") or None
    try:
        data = contracts.parse_contract(raw, holder_given=True)
        contracts.upsert_contract(db(), data, current_actor().username, holder)
    except CustomerInvalid as exc:
        _problems(exc)
        return _back(holder)
    db().commit()
    _tell(holder, "contract changed")
    flash(_("The contract is saved."), "success")
    return _back(holder)


def _contract_of_holder(contract_id: int) -> tuple[Contract, Contact | Organisation]:
    contract = db().get(Contract, contract_id)
    if contract is None:
        abort(404)
    if contract.contact_id is not None:
        return contract, _holder("contact", contract.contact_id)
    return contract, _holder("organisation", contract.organisation_id or 0)


@bp.route("/contracts/<int:contract_id>/delete", methods=["POST"])
def contract_delete(contract_id: int) -> Any:
    contract, holder = _contract_of_holder(contract_id)
    db().delete(contract)
    db().commit()
    _tell(holder, "contract deleted")
    flash(_("The contract is deleted."), "success")
    return _back(holder)


@bp.route("/contracts/<int:contract_id>/entitlements", methods=["POST"])
def entitlement_save(contract_id: int) -> Any:
    contract, holder = _contract_of_holder(contract_id)
    keys = ("name", "unit", "allocation", "valid_from", "valid_until", "counts_on", "on_exhausted")
    raw: dict[str, Any] = {k: request.form.get(k) or None for k in keys}
    raw["channels"] = request.form.getlist("channels")
    errors: dict[str, str] = {}
    data = contracts.parse_entitlement(raw, errors)
    if data is None:
        _problems(CustomerInvalid(errors))
        return _back(holder)
    existing = {e.name: e for e in contracts.entitlements_of(db(), contract.id)}
    row = existing.get(data.name) or Entitlement(contract_id=contract.id, name=data.name)
    db().add(row)
    contracts.save_entitlement_row(row, data)
    db().commit()
    flash(_("The entitlement is saved."), "success")
    return _back(holder)


@bp.route("/entitlements/<int:entitlement_id>/delete", methods=["POST"])
def entitlement_delete(entitlement_id: int) -> Any:
    row = db().get(Entitlement, entitlement_id)
    if row is None:
        abort(404)
    _contract, holder = _contract_of_holder(row.contract_id)
    db().delete(row)
    db().commit()
    flash(_("The entitlement is deleted."), "success")
    return _back(holder)
