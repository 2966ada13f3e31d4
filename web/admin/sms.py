"""The admin page of the SMS gateway: provider, URL, credentials (sealed; never shown back),
sender number, and the URLs to give the provider for inbound SMS and delivery reports.
The rules (the URL allowlist, E.164) live in ``tempodesk.telephony.sms``."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from tempodesk.telephony import sms
from tempodesk.telephony.sms_providers import PROVIDERS
from web import db, runtime
from web.admin import bp
from web.i18n import gettext as _


def _page(view: sms.GatewayView, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    settings = runtime().settings
    hooks = {
        p: (sms.inbound_url(settings, p), sms.status_callback_url(settings, p)) for p in PROVIDERS
    }
    page = render_template(
        "admin/sms.html", gateway=view, errors=errors or {}, providers=PROVIDERS, hooks=hooks
    )
    return page, status


@bp.route("/sms", methods=["GET", "POST"])
def sms_gateway() -> Any:
    if request.method == "GET":
        return _page(sms.view(db()))
    form = request.form
    secret = form.get("secret", "")
    entered = sms.GatewayView(
        provider=form.get("provider", ""),
        url=form.get("url", "").strip(),
        account=form.get("account", "").strip(),
        sender=form.get("sender", "").strip(),
        enabled=form.get("enabled") == "on",
        has_secret=sms.view(db()).has_secret,
    )
    try:
        sms.save_gateway(
            db(),
            runtime().settings,
            provider=entered.provider,
            url=entered.url,
            account=entered.account,
            sender=entered.sender,
            secret=secret or None,  # empty: keep the stored one
            enabled=entered.enabled,
        )
    except sms.GatewayInvalid as exc:
        db().rollback()
        return _page(entered, exc.errors, 422)
    db().commit()
    flash(_("The SMS gateway is saved."), "success")
    return redirect(url_for("admin.sms_gateway"))
