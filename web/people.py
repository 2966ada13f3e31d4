"""Customers on the desk: contacts, organisations and orders.

Each has a list with search, a page with everything about it (tickets the agent may see, all
communication, orders with their items), and create/edit forms; contacts can be merged;
orders arrive from the shop through the API (``web.api.orders``) or a CSV upload here. The
ticket page's customer panel is filled by ``customer_panel`` (a template helper).

Thin views: every rule is in ``tempodesk.people.customers``.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from tempodesk.contracts import Actor
from tempodesk.core.models import Contact, Organisation, Ticket
from tempodesk.messaging.templates import LANGUAGES
from tempodesk.people import accounts, common, merge
from tempodesk.people import contacts as contact_store
from tempodesk.people import orders as order_store
from tempodesk.people import organisations as organisation_store
from tempodesk.tickets import queries
from web import db, release_db, runtime
from web.i18n import gettext as _

bp = Blueprint("people", __name__, url_prefix="/desk")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in agent."""


def _actor() -> Actor:
    return accounts.actor_for(current_user)


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() else 1


@bp.app_context_processor
def _panel_helpers() -> dict[str, Any]:
    return {"customer_panel": _customer_panel, "account_owner_of": contact_store.account_owner}


def _customer_panel(ticket: Ticket) -> queries.CustomerPanel:
    return queries.customer_panel(db(), _actor(), ticket)


# ------------------------------------------------------------------------------- contacts


@bp.route("/contacts")
def contacts() -> Any:
    query = request.args.get("q", "")
    return render_template(
        "people/contacts.html",
        query=query,
        paged=contact_store.search_contacts(db(), query, _page()),
    )


@bp.route("/contacts/lookup")
def contact_lookup() -> Any:
    """Who a new ticket with this email (else phone) would belong to (JSON)."""
    found = contact_store.find_contact(
        db(), request.args.get("email", ""), request.args.get("phone", "")
    )
    if found is None:
        return jsonify({"found": False})
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
    if contact is None:
        abort(404)
    return contact


@bp.route("/contacts/<int:contact_id>")
def contact(contact_id: int) -> Any:
    found = _contact_or_404(contact_id)
    session, actor = db(), _actor()
    tickets = queries.tickets_of(session, actor, [found.id])
    return render_template(
        "people/contact.html",
        contact=found,
        owner=contact_store.account_owner(found),
        tickets=tickets,
        subjects={t.number: t.subject for t in tickets},
        messages=queries.messages_of(session, actor, found.id),
        orders=contact_store.orders_of(session, found.id),
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
            organisations=organisation_store.all_organisations(db()),
            agents=queries.active_agents(db()),
            languages=LANGUAGES,
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
        contact_store.save_contact(db(), data, found)
    except common.CustomerInvalid as exc:
        db().rollback()
        return _contact_editor(data, found, exc.errors, 422)
    db().commit()
    flash(_("The contact is saved."), "success")
    return redirect(url_for("people.contact", contact_id=contact_id))


@bp.route("/contacts/<int:contact_id>/merge", methods=["GET", "POST"])
def contact_merge(contact_id: int) -> Any:
    """Merge a duplicate into this contact (any agent may; every merge is logged)."""
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
    actor = _actor()
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


# -------------------------------------------------------------------------- organisations


@bp.route("/organisations")
def organisations() -> Any:
    query = request.args.get("q", "")
    return render_template(
        "people/organisations.html",
        query=query,
        paged=organisation_store.search_organisations(db(), query, _page()),
    )


def _organisation_or_404(organisation_id: int) -> Organisation:
    found = db().get(Organisation, organisation_id)
    if found is None:
        abort(404)
    return found


@bp.route("/organisations/<int:organisation_id>")
def organisation(organisation_id: int) -> Any:
    found = _organisation_or_404(organisation_id)
    members = organisation_store.members_of(db(), found.id)
    return render_template(
        "people/organisation.html",
        organisation=found,
        members=members,
        tickets=queries.tickets_of(db(), _actor(), [m.id for m in members]),
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
        ),
        status,
    )


def _organisation_form() -> organisation_store.OrganisationData:
    return organisation_store.OrganisationData(
        name=request.form.get("name", ""), account_owner=request.form.get("account_owner", "")
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
        data = organisation_store.OrganisationData(found.name, found.account_owner or "")
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


# --------------------------------------------------------------------------------- orders


@bp.route("/orders")
def orders() -> Any:
    query = request.args.get("q", "")
    paged = order_store.search_orders(db(), query, _page())
    exact = order_store.find_order(db(), query) if query.strip() else None
    if exact is not None and request.args.get("go"):
        return redirect(url_for("people.order", number=exact.number))
    return render_template("people/orders.html", query=query, paged=paged)


@bp.route("/orders/<number>")
def order(number: str) -> Any:
    found = order_store.find_order(db(), number)
    if found is None:
        abort(404)
    return render_template(
        "people/order.html",
        order=found,
        tickets=queries.tickets_of_order(db(), _actor(), found.id),
    )


@bp.route("/orders/import", methods=["GET", "POST"])
def orders_import() -> Any:
    """Upload the shop's CSV export: all rows are checked first; one bad row imports none."""
    if request.method == "GET":
        return render_template(
            "people/orders_import.html", report=None, columns=order_store.CSV_COLUMNS
        )
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV file to import."), "error")
        return (
            render_template(
                "people/orders_import.html", report=None, columns=order_store.CSV_COLUMNS
            ),
            422,
        )
    report = order_store.import_orders_csv(db(), upload.read())
    if report.imported:
        db().commit()
        current_app.logger.info(
            "orders CSV imported by %s: %d rows", current_user.username, len(report.rows)
        )
    else:
        db().rollback()
    return (
        render_template(
            "people/orders_import.html", report=report, columns=order_store.CSV_COLUMNS
        ),
        200 if report.imported else 422,
    )
