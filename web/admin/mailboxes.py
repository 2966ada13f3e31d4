"""Admin pages for mailboxes: the list, a mailbox's settings (IMAP, SMTP, routing, intake)
and "check mail now".

Forms read only the fields ``tempodesk.mail.admin.read_form`` lists; passwords are write-only
(the form says whether one is stored, never what it is). Waiting on Temporal happens with the
database connection given back (``release_db``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from tempodesk.core.audit import CHANGED, snapshot
from tempodesk.core.models import Mailbox
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.mail import admin as mail_admin
from tempodesk.mail import mailboxes
from tempodesk.people import users
from tempodesk.tickets import processes
from web import audit, db, release_db, runtime
from web.admin import bp
from web.i18n import gettext as _
from web.i18n import lazy_gettext, offered_languages

SECURITY_LABELS = {"tls": "TLS", "starttls": "STARTTLS", "none": lazy_gettext("None (unencrypted)")}
CLOSED_POLICY_LABELS = {
    "reopen": lazy_gettext("reopens it"),
    "new": lazy_gettext("opens a new ticket"),
    "reopen_within": lazy_gettext("reopens it within the days below, else opens a new ticket"),
}
#: The mailbox's polling status: not settings, not audited.
STATUS_FIELDS = (
    "uidvalidity",
    "last_uid",
    "first_contact_at",
    "rescan_below",
    "last_poll_at",
    "last_error",
)
RESERVED_NAMES = ("new",)  # /admin/mailboxes/new is the form for a new one
ENGINE_DOWN = lazy_gettext(
    "The mailbox is saved, but Temporal or the worker is not answering: polling starts "
    "when they are back."
)


@bp.route("/mailboxes")
def mailboxes_list() -> Any:
    return render_template(
        "admin/mail/mailboxes.html",
        mailboxes=mail_admin.summaries(db()),
        smtp_alerts=mail_admin.smtp_alerts(db()),
    )


@bp.route("/mailboxes/new", methods=["GET", "POST"])
def mailbox_new() -> Any:
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        form = mail_admin.read_form(request.form)
        errors: dict[str, str] = {}
        if name in RESERVED_NAMES:
            errors["name"] = _("'%(name)s' is reserved; choose another.", name=name)
        elif mailboxes.channel(db(), name) is not None:
            errors["name"] = _("There is a mailbox '%(name)s' already.", name=name)
        return _save(name, form, errors, is_new=True)
    return _editor("", mail_admin.form_defaults(), {}, is_new=True)


@bp.route("/mailboxes/<name>", methods=["GET", "POST"])
def mailbox_edit(name: str) -> Any:
    values = mail_admin.form_values(db(), name)
    if values is None:
        abort(404)
    if request.method == "POST":
        return _save(name, mail_admin.read_form(request.form), {}, is_new=False)
    return _editor(name, values, {})


@bp.route("/mailboxes/<name>/poll", methods=["POST"])
def mailbox_poll(name: str) -> Any:
    if mailboxes.channel(db(), name) is None:
        abort(404)
    box = mailboxes.row(db(), name)
    if box is None or not box.imap_host or not box.enabled:
        flash(
            _(
                "'%(name)s' has no IMAP settings switched on: its mail arrives only through "
                "the API.",
                name=name,
            ),
            "error",
        )
    elif _ensure_polling(name):
        flash(_("'%(name)s' is checking for new mail now.", name=name), "success")
    else:
        flash(
            _("Temporal or the worker is not answering: polling starts when they are back."),
            "error",
        )
    return redirect(url_for("admin.mailbox_edit", name=name))


CHANNEL_FIELDS = ("address", "label", "owner", "group_name", "process_name")
MAILBOX_FIELDS = tuple(
    c.key for c in Mailbox.__table__.columns if c.key not in ("id", "channel_id", *STATUS_FIELDS)
)


def _state(name: str) -> dict[str, Any] | None:
    """What the audit log keeps of a mailbox: its settings (secrets only as set), not its
    polling status (None: none yet)."""
    box = mailboxes.row(db(), name)
    if box is None:
        return None
    return {**snapshot(box.channel, CHANNEL_FIELDS), **snapshot(box, MAILBOX_FIELDS)}


def _save(name: str, form: mail_admin.MailboxForm, errors: dict[str, str], *, is_new: bool) -> Any:
    session = db()
    before = _state(name)
    errors = {**errors, **mail_admin.check_form(session, form)}
    try:
        mailboxes.save(
            session,
            name,
            runtime().settings,
            address=form.address,
            values=form.values,
            imap_password=form.imap_password,
            smtp_password=form.smtp_password,
        )
    except mailboxes.MailboxInvalid as exc:
        errors = {**exc.errors, **errors}
    if errors:
        session.rollback()
        values = {**mail_admin.form_defaults(), **form.values, "address": form.address}
        typed = form.imap_password or form.smtp_password
        return _editor(name, values, errors, is_new=is_new, status=422, retype=bool(typed))
    session.flush()
    after = _state(name)
    if after is not None:  # a new password is a change, though only its being set shows
        if form.imap_password:
            after["imap_secret"] = CHANGED
        if form.smtp_password:
            after["smtp_secret"] = CHANGED
    audit.record(
        "mailbox.create" if before is None else "mailbox.update",
        object_type="mailbox",
        object_id=name,
        before=before,
        after=after,
    )
    session.commit()
    polls = bool(form.values.get("imap_host")) and bool(form.values.get("enabled"))
    flash(_("The mailbox '%(name)s' is saved.", name=name), "success")
    if polls and not _ensure_polling(name):
        flash(str(ENGINE_DOWN), "error")
    return redirect(url_for("admin.mailbox_edit", name=name))


def _ensure_polling(name: str) -> bool:
    """Start or wake the mailbox's polling workflow; False if Temporal is not answering."""
    release_db()
    try:
        runtime().temporal.ensure_mailbox(name)
    except EngineUnavailable:
        return False
    return True


def _editor(
    name: str,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    is_new: bool = False,
    status: int = 200,
    retype: bool = False,
) -> Any:
    session = db()
    return (
        render_template(
            "admin/mail/edit.html",
            name=name,
            values=values,
            errors=errors,
            is_new=is_new,
            retype=retype,
            stored=mail_admin.stored_passwords(session, name) if not is_new else {},
            box=None if is_new else mailboxes.row(session, name),
            groups=users.all_groups(session),
            agents=[u for u in users.all_users(session) if u.is_active],
            process_names=processes.names(session),
            security=[(k, SECURITY_LABELS.get(k, k)) for k in mailboxes.SECURITY],
            languages=list(offered_languages(values.get("language") or "").items()),
            closed_policies=[
                (k, CLOSED_POLICY_LABELS.get(k, k)) for k in mailboxes.CLOSED_POLICIES
            ],
        ),
        status,
    )
