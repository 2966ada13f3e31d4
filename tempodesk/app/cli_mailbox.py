"""`tempodesk mailbox …`: the email channels Tempodesk reads and answers from."""

from __future__ import annotations

import getpass
import os

import click
from sqlalchemy import select

from tempodesk.app.cli_support import prepare as _prepare
from tempodesk.app.cli_support import sessions as _sessions
from tempodesk.core.db import transaction
from tempodesk.core.models import Channel
from tempodesk.core.settings import get_settings
from tempodesk.mail import mailboxes


@click.group()
def mailbox() -> None:
    """Mailboxes: the email channels Tempodesk reads and answers from."""


@mailbox.command("add")
@click.argument("name")
@click.option("--address", required=True, help="The mailbox's email address.")
@click.option("--imap-host", default="", help="IMAP server (empty: mail only via the API).")
@click.option("--imap-port", default=993, show_default=True)
@click.option("--imap-security", type=click.Choice(mailboxes.SECURITY), default="tls")
@click.option("--imap-user", default="", help="IMAP username (the address if empty).")
@click.option("--folder", default="INBOX", show_default=True)
@click.option("--processed-folder", default="", help="Move processed mail here (else flag it).")
@click.option("--poll", "poll_seconds", default=60, show_default=True, help="Seconds.")
@click.option("--group", default="", help="Group of new tickets from this mailbox.")
@click.option("--owner", default="", help="Agent who owns tickets from this mailbox.")
@click.option("--process", default="", help="Process of new tickets (else the default).")
@click.option("--acknowledge/--no-acknowledge", default=True, help="Confirm receipt.")
@click.option("--import-existing", is_flag=True, help="Also import mail already there.")
@click.option("--no-verify", is_flag=True, help="Do not verify the IMAP TLS certificate.")
def mailbox_add(
    name: str, address: str, imap_user: str, no_verify: bool, **options: object
) -> None:
    """Add or update a mailbox; the IMAP password comes from TEMPODESK_MAILBOX_PASSWORD or a
    prompt (it is stored encrypted and never shown again)."""
    settings = get_settings()
    _prepare(settings)
    password = None
    if options["imap_host"]:
        password = os.environ.get("TEMPODESK_MAILBOX_PASSWORD") or getpass.getpass(
            "IMAP password: "
        )
    values = {
        "imap_host": options["imap_host"],
        "imap_port": options["imap_port"],
        "imap_security": options["imap_security"],
        "imap_username": imap_user or address,
        "imap_verify": not no_verify,
        "folder": options["folder"],
        "processed_folder": options["processed_folder"],
        "poll_seconds": options["poll_seconds"],
        "acknowledge": options["acknowledge"],
        "import_existing": options["import_existing"],
        "group_name": options["group"],
        "owner": options["owner"],
        "process_name": options["process"],
    }
    try:
        with transaction(_sessions(settings)) as session:
            mailboxes.save(
                session, name, settings, address=address, values=values, imap_password=password
            )
    except mailboxes.MailboxInvalid as exc:
        for key, message in exc.errors.items():
            click.echo(f"{key}: {message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Mailbox {name} <{address}> saved.")
    if values["imap_host"]:
        from tempodesk.core.temporal import EngineUnavailable, TemporalFacade

        facade = TemporalFacade(settings, timeout=10)
        try:
            facade.ensure_mailbox(name)
            click.echo("Its polling workflow is running.")
        except EngineUnavailable:
            click.echo("Temporal is not reachable now: the worker starts polling when it starts.")
        finally:
            facade.close()


@mailbox.command("poll")
@click.argument("name")
def mailbox_poll(name: str) -> None:
    """Fetch NAME's new mail once now, outside the polling workflow (diagnostics)."""
    from activities.mailbox import MailboxActivities
    from tempodesk.app.runtime import Runtime

    settings = get_settings()
    runtime = Runtime(settings)
    try:
        result = MailboxActivities(settings, runtime.sessions, runtime.inbound).poll_once(name)
    finally:
        runtime.close()
    if result.stopped:
        raise click.ClickException(f"'{name}' is not a mailbox with IMAP settings switched on.")
    if result.error:
        raise click.ClickException(result.error)
    click.echo(
        f"{name}: {result.fetched} new message(s)" + (", more waiting." if result.more else ".")
    )


@mailbox.command("reprocess")
@click.argument("name")
@click.option("--id", "ids", type=int, multiple=True, help="Only this message (repeatable).")
def mailbox_reprocess(name: str, ids: tuple[int, ...]) -> None:
    """Run NAME's quarantined mail through the pipeline again, e.g. after a fix."""
    from tempodesk.app.runtime import Runtime
    from tempodesk.core.models import InboundMessage

    settings = get_settings()
    runtime = Runtime(settings)
    try:
        with runtime.sessions() as session:
            query = select(InboundMessage.id).where(InboundMessage.mailbox == name)
            if ids:
                query = query.where(InboundMessage.id.in_(ids))
            else:
                query = query.where(InboundMessage.status == "quarantined")
            chosen = list(session.scalars(query.order_by(InboundMessage.id)))
        for inbound_id in chosen:
            outcome = runtime.inbound.reprocess(inbound_id)
            said = " ".join(x for x in (outcome.ticket, outcome.reason) if x)
            click.echo(f"{inbound_id}: {outcome.outcome} {said}".rstrip())
    finally:
        runtime.close()
    if not chosen:
        click.echo(f"{name}: nothing to reprocess.")


@mailbox.command("list")
def mailbox_list() -> None:
    """List the mailboxes (never their passwords)."""
    settings = get_settings()
    with _sessions(settings)() as session:
        channels = session.scalars(
            select(Channel).where(Channel.kind == "email").order_by(Channel.name)
        ).all()
        for channel in channels:
            box = mailboxes.row(session, channel.name)
            imap = (
                f"{box.imap_username}@{box.imap_host}:{box.imap_port}/{box.folder}"
                if box and box.imap_host
                else "no IMAP (API only)"
            )
            state = "" if box is None or box.enabled else " (disabled)"
            error = f"  last error: {box.last_error}" if box and box.last_error else ""
            click.echo(f"{channel.name:12} {channel.address:32} {imap}{state}{error}")
