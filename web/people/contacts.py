"""Contacts: the list with search, who a new ticket's address belongs to (JSON), a contact's
page (the tickets the agent may see, all communication, orders), the create and edit forms,
and merging a duplicate into a contact.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from tempodesk.core.models import Contact
from tempodesk.people import common, merge
from tempodesk.people import contacts as contact_store
from tempodesk.people import organisations as organisation_store
from tempodesk.tickets import customer_scope, queries
from web import db, release_db, runtime
from web.i18n import gettext as _
from web.i18n import offered_languages
from web.people.blueprint import bp, current_actor, page_number, require_customers_right


@bp.route("/contacts")
def contacts() -> Any:
    query = request.args.get("q", "")
    return render_template(
        "people/contacts.html",
        query=query,
        paged=contact_store.search_contacts(
            db(), query, page_number(), customer_scope.contacts_clause(db(), current_actor())
        ),
    )


@bp.route("/contacts/lookup")
def contact_lookup() -> Any:
    """Who a new ticket with this email (else phone) would belong to (JSON)."""
    found = contact_store.find_contact(
        db(), request.args.get("email", ""), request.args.get("phone", "")
    )
    if found is None or not customer_scope.may_see_contact(db(), current_actor(), found.id):
        return jsonify({"found": False})  # not one the agent may see: say nothing about them
    return jsonify(
        {
            "found": True,
            "id": found.id,
            "name": found.name,
            "email": found.email,
            "phone": found.phone,
            "url": url_for("people.contact", contact_id=found.id),
        }
    )


def _contact_or_404(contact_id: int) -> Contact:
    contact = contact_store.get_contact(db(), contact_id)
    if contact is None or not customer_scope.may_see_contact(db(), current_actor(), contact_id):
        abort(404)
    return contact


@bp.route("/contacts/<int:contact_id>")
def contact(contact_id: int) -> Any:
    found = _contact_or_404(contact_id)
    session, actor = db(), current_actor()
    tickets = queries.tickets_of(session, actor, [found.id])
    return render_template(
        "people/contact.html",
        contact=found,
        owner=contact_store.account_owner(found),
        tickets=tickets,
        subjects={t.number: t.subject for t in tickets},
        messages=queries.messages_of(session, actor, found.id),
        orders=contact_store.orders_of(session, found.id),
        history=contact_store.contact_history(session, found.id),
    )


def _contact_form() -> contact_store.ContactData:
    form = request.form
    organisation = form.get("organisation_id", "")
    return contact_store.ContactData(
        name=form.get("name", ""),
        email=form.get("email", ""),
        phone=form.get("phone", ""),
        organisation_id=int(organisation) if organisation.isdigit() else None,
        account_owner=form.get("account_owner", ""),
        language=form.get("language", "en"),
    )


def _contact_editor(
    data: contact_store.ContactData,
    contact: Contact | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    return (
        render_template(
            "people/contact_form.html",
            data=data,
            contact=contact,
            errors=errors or {},
            organisations=organisation_store.all_organisations(
                db(), customer_scope.organisations_clause(db(), current_actor())
            ),
            agents=queries.active_agents(db()),
            languages=list(offered_languages(data.language)),
        ),
        status,
    )


@bp.route("/contacts/new", methods=["GET", "POST"])
def contact_new() -> Any:
    if request.method == "GET":
        data = contact_store.ContactData(
            email=request.args.get("email", ""),
            phone=request.args.get("phone", ""),
            name=request.args.get("name", ""),
        )
        return _contact_editor(data, None)
    data = _contact_form()
    try:
        created = contact_store.save_contact(db(), data)
    except common.CustomerInvalid as exc:
        db().rollback()
        return _contact_editor(data, None, exc.errors, 422)
    db().commit()
    flash(_("The contact is created."), "success")
    return redirect(url_for("people.contact", contact_id=created.id))


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def contact_edit(contact_id: int) -> Any:
    found = _contact_or_404(contact_id)
    if request.method == "GET":
        return _contact_editor(contact_store.contact_data(found), found)
    data = _contact_form()
    try:
        contact_store.save_contact(db(), data, found, by=current_actor().username)
    except common.CustomerInvalid as exc:
        db().rollback()
        return _contact_editor(data, found, exc.errors, 422)
    db().commit()
    flash(_("The contact is saved."), "success")
    return redirect(url_for("people.contact", contact_id=contact_id))


@bp.route("/contacts/<int:contact_id>/merge", methods=["GET", "POST"])
def contact_merge(contact_id: int) -> Any:
    """Merge a duplicate into this contact (with the "customers" right; every merge is
    logged): the candidates are searched among all contacts."""
    require_customers_right()
    found = _contact_or_404(contact_id)
    query = request.values.get("q", "")
    if request.method == "GET":
        return render_template(
            "people/contact_merge.html",
            contact=found,
            query=query,
            candidates=contact_store.merge_candidates(db(), found, query),
            errors={},
        )
    raw = request.form.get("duplicate_id", "")
    duplicate_id = int(raw) if raw.isdigit() else 0
    actor = current_actor()
    release_db()
    try:
        report = merge.merge_contacts(
            runtime().sessions, runtime().temporal, contact_id, duplicate_id, actor
        )
    except common.CustomerInvalid as exc:
        return (
            render_template(
                "people/contact_merge.html",
                contact=_contact_or_404(contact_id),
                query=query,
                candidates=contact_store.merge_candidates(db(), _contact_or_404(contact_id), query),
                errors=exc.errors,
            ),
            422,
        )
    flash(
        _(
            "%(contact)s is merged into this contact: %(tickets)s ticket(s) and %(orders)s "
            "order(s) moved.",
            contact=report.removed,
            tickets=len(report.relinked) + len(report.closed),
            orders=report.orders,
        ),
        "success",
    )
    return redirect(url_for("people.contact", contact_id=contact_id))
