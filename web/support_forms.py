"""Forms an admin configures per site (``tempodesk.tickets.forms``): ``/support/<slug>``, its
embeddable twin ``/support/<slug>/embed`` for another site's iframe (``embed.js`` inserts it)
and the confirmation.

A form files its request through intake like the default form (``/support/new``): its
custom fields' values travel in the ticket's start and open as the ticket's fields; the web
writes no ticket. An internal form (for employees) asks its requester to sign in like a
customer (the portal) and takes their name and address from the contact.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import flask_babel
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from statemachines import FieldErrors
from tempodesk.contracts import CustomerRef
from tempodesk.core.ids import web_form_key
from tempodesk.core.models import Contact
from tempodesk.tickets import forms
from tempodesk.tickets.form_fields import clean_values, file_problem
from tempodesk.tickets.intake import AttachmentData, IntakeInvalid, KeyReused, NewTicket
from web import csrf, db, limits, release_db, runtime, submissions
from web.i18n import current_language, translate_message
from web.i18n import gettext as _
from web.portal.common import signed_in_contact, to_sign_in
from web.public import _FIELD_FOR, SupportForm, fingerprint

#: The same prefix as the default form's blueprint (``/support/new`` wins over a slug).
bp = Blueprint("support_forms", __name__, url_prefix="/support")

#: An embedded page's policy: the default one, but framed by the form's own origins.
EMBED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {origins}"
)


class Page:
    """One request to a configured form: its settings, the submitted form and the errors."""

    def __init__(self, spec: forms.FormSettings, *, embed: bool):
        self.spec = spec
        self.embed = embed
        self.contact: Contact | None = None
        # In another site's iframe our session cookie is not sent: the signed key is the token.
        self.form = SupportForm(meta={"csrf": not embed})
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def render(self, status: int = 200) -> Any:
        response = render_template(
            "public/form.html",
            page=self,
            spec=self.spec,
            form=self.form,
            values=self.values,
            errors=self.errors,
        )
        return self.framed(response, status)

    def framed(self, body: Any, status: int) -> Response:
        response = Response(body, status=status, mimetype="text/html")
        if self.embed:
            origins = " ".join(self.spec.origins) or "'none'"
            response.headers["Content-Security-Policy"] = EMBED_CSP.format(origins=origins)
        return response


def _load(slug: str, *, embed: bool) -> Page:
    spec = forms.find(db(), slug)
    if spec is None or (embed and spec.internal):
        abort(404)
    if spec.language:
        g.page_language = spec.language
        flask_babel.refresh()
    return Page(spec, embed=embed)


@bp.route("/<slug>", methods=["GET", "POST"])
def site_form(slug: str) -> Any:
    page = _load(slug, embed=False)
    if page.spec.internal:
        page.contact = signed_in_contact()
        if page.contact is None:
            return to_sign_in()
    return _serve(page)


@bp.route("/<slug>/embed", methods=["GET", "POST"])
@csrf.exempt  # the signed submission key is this page's token (web.submissions)
def embedded_form(slug: str) -> Any:
    page = _load(slug, embed=True)
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin and origin not in _own_origins(page.spec):
        abort(403)
    return _serve(page)


def _own_origins(spec: forms.FormSettings) -> list[str]:
    """Who may post the embedded form: the iframe's own document (ours, as the browser
    reached us or as configured behind a proxy) and the sites that embed it."""
    public = urlsplit(runtime().settings.public_url)
    return [
        request.host_url.rstrip("/"),
        f"{public.scheme}://{public.netloc}",
        *spec.origins,
    ]


@bp.route("/<slug>/embed.js")
def embed_script(slug: str) -> Any:
    """The script another site includes: it puts the embedded form in an iframe."""
    spec = forms.find(db(), slug)
    if spec is None or spec.internal:
        abort(404)
    response = send_from_directory(str(current_app.static_folder), "embed.js", max_age=3600)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _serve(page: Page) -> Any:
    form, scope = page.form, page.spec.slug
    if not form.is_submitted():
        form.submission.data = submissions.issue(scope, in_session=not page.embed)
        return page.render()
    limits.hit(runtime().settings.public_form_rate_limit, "support-form", limits.client_address())
    if page.contact is not None:  # an internal form: the signed-in requester
        form.name.data = page.contact.name
        form.email.data = page.contact.email or ""
    page.values = {spec.key: _raw(spec.key, spec.type) for spec in page.spec.fields}
    if not form.validate():
        return page.render(422)
    problem = submissions.problem(
        form.submission.data, scope, form.website.data, in_session=not page.embed
    ) or submissions.spam_problem(
        page.spec.content_rules,
        form.email.data or "",
        [
            form.subject.data or "",
            *(v for v in page.values.values() if isinstance(v, str)),
            form.message.data or "",
        ],
    )
    if problem is not None:
        form.submission.data = submissions.issue(scope, in_session=not page.embed)
        form.message.errors = [problem]
        return page.render(422)
    try:
        fields = clean_values(page.spec.fields, page.values)
    except FieldErrors as exc:
        page.errors = {k: translate_message(v) for k, v in exc.errors.items()}
        return page.render(422)
    files = _files(page)
    if files is None:
        return page.render(422)
    return _file(page, fields, files)


def _raw(key: str, kind: str) -> Any:
    return request.form.get(key) if kind != "checkbox" else key in request.form


def _files(page: Page) -> list[AttachmentData] | None:
    """The files sent, checked against the form's limits (None: refused, with the reason)."""
    files = []
    for upload in request.files.getlist("attachments"):
        if not upload.filename:
            continue
        data = upload.read()
        problem = file_problem(page.spec.file_rules, upload.filename, data)
        if problem is not None:
            page.errors["attachments"] = translate_message(problem)
            return None
        files.append(AttachmentData(upload.filename, upload.mimetype or "", data))
    return runtime().actions.check_attachments(files)


def _file(page: Page, fields: dict[str, Any], files: list[AttachmentData]) -> Any:
    form, spec = page.form, page.spec
    nonce = submissions.nonce(form.submission.data, spec.slug)
    content = (form.name.data, form.email.data, form.subject.data, form.message.data)
    order = (form.order_number.data or "") if spec.ask_order else ""
    release_db()
    try:
        created = runtime().intake.create_ticket(
            NewTicket(
                subject=form.subject.data or "",
                body=form.message.data or "",
                customer=CustomerRef(
                    email=form.email.data or "",
                    name=form.name.data or "",
                    order_needs_email=True,
                    language=spec.language or current_language(),
                ),
                channel="web",
                order_number=order,
                idempotency_key=web_form_key(nonce),
                fingerprint=fingerprint(spec.slug, *content, order, fields),
                form=spec.slug,
                fields=fields,
                attachments=files,
            ),
            accept_if_down=True,
        )
    except KeyReused:
        form.submission.data = submissions.issue(spec.slug, in_session=not page.embed)
        form.message.errors = [
            _("This form was already sent with other content. Send it again to file it too.")
        ]
        return page.render(422)
    except IntakeInvalid as exc:
        for key, message in exc.errors.items():
            field = getattr(form, _FIELD_FOR.get(key, "message"))
            field.errors = [*field.errors, message]
        return page.render(422)
    if page.embed:  # no session in a third-party iframe: the confirmation at once
        return page.framed(_confirmation(spec, created.number, embedded=True), 200)
    session["submitted_ticket"] = created.number
    return redirect(url_for("support_forms.site_form_submitted", slug=spec.slug))


def _confirmation(spec: forms.FormSettings, number: str, *, embedded: bool = False) -> str:
    return render_template("public/submitted.html", number=number, spec=spec, embedded=embedded)


@bp.route("/<slug>/submitted")
def site_form_submitted(slug: str) -> Any:
    page = _load(slug, embed=False)
    number = session.get("submitted_ticket")
    if not number:
        return redirect(url_for("support_forms.site_form", slug=slug))
    return _confirmation(page.spec, number)
