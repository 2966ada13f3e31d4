"""Organisations: the list with search, an organisation's page (its members and their tickets),
and the create and edit forms.

Whether an organisation's members see each other's requests in the portal is a privacy
choice: only those who manage every customer (admins and the Customers group,
``customer_scope.sees_all_customers``) may change it; for anyone else the form leaves it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from tempodesk.core.models import Organisation
from tempodesk.people import common
from tempodesk.people import organisations as organisation_store
from tempodesk.tickets import customer_scope, queries
from web import db
from web.i18n import gettext as _
from web.people.blueprint import bp, current_actor, page_number


@bp.route("/organisations")
def organisations() -> Any:
    query = request.args.get("q", "")
    return render_template(
        "people/organisations.html",
        query=query,
        paged=organisation_store.search_organisations(
            db(),
            query,
            page_number(),
            customer_scope.organisations_clause(db(), current_actor()),
            customer_scope.contacts_clause(db(), current_actor()),
        ),
    )


def _organisation_or_404(organisation_id: int) -> Organisation:
    found = db().get(Organisation, organisation_id)
    if found is None or not customer_scope.may_see_organisation(
        db(), current_actor(), organisation_id
    ):
        abort(404)
    return found


@bp.route("/organisations/<int:organisation_id>")
def organisation(organisation_id: int) -> Any:
    found = _organisation_or_404(organisation_id)
    members = organisation_store.members_of(
        db(), found.id, customer_scope.contacts_clause(db(), current_actor())
    )
    return render_template(
        "people/organisation.html",
        organisation=found,
        members=members,
        tickets=queries.tickets_of(db(), current_actor(), [m.id for m in members]),
        names={m.id: m.name or m.email or m.phone for m in members},
    )


def _organisation_editor(
    data: organisation_store.OrganisationData,
    organisation: Organisation | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    return (
        render_template(
            "people/organisation_form.html",
            data=data,
            organisation=organisation,
            errors=errors or {},
            agents=queries.active_agents(db()),
            may_share=customer_scope.sees_all_customers(current_actor()),
        ),
        status,
    )


def _organisation_form() -> organisation_store.OrganisationData:
    may_share = customer_scope.sees_all_customers(current_actor())
    return organisation_store.OrganisationData(
        name=request.form.get("name", ""),
        account_owner=request.form.get("account_owner", ""),
        portal_shared=request.form.get("portal_shared") == "on" if may_share else None,
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
def organisation_new() -> Any:
    if request.method == "GET":
        return _organisation_editor(organisation_store.OrganisationData(), None)
    data = _organisation_form()
    try:
        created = organisation_store.save_organisation(db(), data)
    except common.CustomerInvalid as exc:
        db().rollback()
        return _organisation_editor(data, None, exc.errors, 422)
    db().commit()
    flash(_("The organisation is created."), "success")
    return redirect(url_for("people.organisation", organisation_id=created.id))


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def organisation_edit(organisation_id: int) -> Any:
    found = _organisation_or_404(organisation_id)
    if request.method == "GET":
        data = organisation_store.OrganisationData(
            found.name, found.account_owner or "", found.portal_shared
        )
        return _organisation_editor(data, found)
    data = _organisation_form()
    try:
        organisation_store.save_organisation(db(), data, found)
    except common.CustomerInvalid as exc:
        db().rollback()
        return _organisation_editor(data, found, exc.errors, 422)
    db().commit()
    flash(_("The organisation is saved."), "success")
    return redirect(url_for("people.organisation", organisation_id=organisation_id))
