"""Admin pages for outbound webhooks: the list, a new subscription (its secret shown once),
editing its URL and events, enabling or disabling it, its delivery log and a test ping.
The rules live in ``tempodesk.webhooks.subscriptions``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tempodesk.core.models import WebhookSubscription
from tempodesk.webhooks import subscriptions
from tempodesk.webhooks.events import EVENTS
from web import db, runtime
from web.admin import bp
from web.api.webhooks import wake
from web.i18n import gettext as _


def _form() -> subscriptions.Draft:
    form = request.form
    return subscriptions.Draft(
        url=form.get("url", ""),
        events=form.getlist("events"),
        description=form.get("description", ""),
        enabled=form.get("enabled") == "on",
    )


def _page(
    draft: subscriptions.Draft,
    hook: WebhookSubscription | None,
    *,
    errors: dict[str, str] | None = None,
    secret: str = "",
    status: int = 200,
) -> Any:
    log = subscriptions.deliveries(db(), hook.id) if hook is not None else []
    return (
        render_template(
            "admin/webhooks/edit.html",
            draft=draft,
            hook=hook,
            errors=errors or {},
            secret=secret,
            events=EVENTS,
            deliveries=log,
        ),
        status,
    )


def _hook_or_404(hook_id: int) -> WebhookSubscription:
    hook = db().get(WebhookSubscription, hook_id)
    if hook is None:
        abort(404)
    return hook


@bp.route("/webhooks")
def webhooks_list() -> Any:
    hooks = subscriptions.all_subscriptions(db())
    return render_template("admin/webhooks/list.html", hooks=hooks)


@bp.route("/webhooks/new", methods=["GET", "POST"])
def webhooks_new() -> Any:
    if request.method == "GET":
        return _page(subscriptions.Draft(url="", events=["ticket.created"]), None)
    draft = _form()
    try:
        hook, secret = subscriptions.create(
            db(),
            draft,
            app_secret=runtime().settings.session_secret(),
            actor=current_user.username,
        )
    except subscriptions.Invalid as exc:
        db().rollback()
        return _page(draft, None, errors=exc.errors, status=422)
    db().commit()
    # The secret is shown on this page only (never stored unsealed, never in a cookie).
    return _page(_draft_of(hook), hook, secret=secret, status=201)


def _draft_of(hook: WebhookSubscription) -> subscriptions.Draft:
    return subscriptions.Draft(
        url=hook.url,
        events=list(hook.events or []),
        description=hook.description,
        enabled=hook.enabled,
    )


@bp.route("/webhooks/<int:hook_id>", methods=["GET", "POST"])
def webhooks_edit(hook_id: int) -> Any:
    hook = _hook_or_404(hook_id)
    if request.method == "GET":
        return _page(_draft_of(hook), hook)
    draft = _form()
    try:
        subscriptions.change(db(), hook, draft, actor=current_user.username)
    except subscriptions.Invalid as exc:
        db().rollback()
        return _page(draft, _hook_or_404(hook_id), errors=exc.errors, status=422)
    db().commit()
    flash(_("The webhook is saved."), "success")
    return redirect(url_for("admin.webhooks_edit", hook_id=hook.id))


@bp.route("/webhooks/<int:hook_id>/ping", methods=["POST"])
def webhooks_ping(hook_id: int) -> Any:
    hook = _hook_or_404(hook_id)
    if not hook.enabled:
        flash(_("The webhook is disabled; enable it first."), "error")
    else:
        subscriptions.queue_ping(db(), hook, current_user.username)
        db().commit()
        wake(hook.id)
        flash(_("A test ping is on its way; its delivery is in the log below."), "success")
    return redirect(url_for("admin.webhooks_edit", hook_id=hook.id))


@bp.route("/webhooks/<int:hook_id>/delete", methods=["POST"])
def webhooks_delete(hook_id: int) -> Any:
    subscriptions.delete(db(), _hook_or_404(hook_id), actor=current_user.username)
    db().commit()
    flash(_("The webhook is deleted."), "success")
    return redirect(url_for("admin.webhooks_list"))
