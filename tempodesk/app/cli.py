"""The `tempodesk` command. Every subcommand reads the same settings as the app."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from statemachines import DefinitionError
from tempodesk.app import demo
from tempodesk.app.cli_privacy import bulk, gdpr
from tempodesk.app.doctor import doctor
from tempodesk.core.db import make_engine, make_session_factory, transaction, upgrade
from tempodesk.core.models import Channel, PendingStart
from tempodesk.core.settings import Settings, get_settings
from tempodesk.mail import mailboxes
from tempodesk.people import accounts
from tempodesk.tickets import pending as pending_starts
from tempodesk.tickets import processes

if TYPE_CHECKING:
    from tempodesk.app.devserver import TemporalDevServer


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.db_url))


@click.group()
def main() -> None:
    """Tempodesk: a helpdesk where every ticket is a durable Temporal workflow."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("alembic", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """Database commands."""


def _prepare(settings: Settings) -> None:
    """Migrate, and publish the bundled processes and templates where missing."""
    upgrade(settings.db_url)
    with transaction(_sessions(settings)) as session:
        processes.ensure_bundled(session)


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration and publish the bundled processes."""
    settings = get_settings()
    _prepare(settings)
    click.echo(f"Database is up to date ({_safe_url(settings.db_url)}).")


@main.command("seed-demo")
def seed_demo() -> None:
    """Load demo agents, groups, customers, orders and channels (once)."""
    settings = get_settings()
    upgrade(settings.db_url)
    with transaction(_sessions(settings)) as session:
        seeded = demo.seed_demo(session, mail_domain=settings.message_id_domain)
    if not seeded:
        click.echo("Demo data is already there.")
        return
    demo.remember(settings.var_dir / "demo-logins.json", seeded)
    for username, password in seeded["logins"].items():
        click.echo(f"{username:8} {password}")
    click.echo(f"API token (admin): {seeded['token']}")


@main.group()
def process() -> None:
    """Process definitions: validate, publish, export."""


@process.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def process_validate(file: Path) -> None:
    """Check a definition file; print every problem with its location."""
    settings = get_settings()
    _prepare(settings)
    with _sessions(settings)() as session:
        checked = processes.check(session, file.read_text(encoding="utf-8"))
    if checked.ok and checked.definition is not None:
        definition = checked.definition
        click.echo(
            f"{file}: valid ({definition.name}: {len(definition.states)} states, "
            f"{len(definition.actions)} actions)."
        )
        return
    for problem in checked.problems:
        click.echo(f"{file}: {problem}", err=True)
    raise SystemExit(1)


@process.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--author", default="cli", help="Recorded as the version's author.")
def process_publish(file: Path, author: str) -> None:
    """Validate a definition file and publish it as a new version."""
    settings = get_settings()
    _prepare(settings)
    try:
        with transaction(_sessions(settings)) as session:
            version = processes.publish(session, file.read_text(encoding="utf-8"), author=author)
            click.echo(f"Published {version.name} v{version.version}.")
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        raise SystemExit(1) from None


@process.command("export")
@click.argument("name")
@click.option("--version", type=int, default=None, help="A published version (latest if absent).")
def process_export(name: str, version: int | None) -> None:
    """Print a published process as YAML (the format `process publish` reads)."""
    settings = get_settings()
    with _sessions(settings)() as session:
        try:
            click.echo(processes.export(session, name, version), nl=False)
        except processes.UnknownProcess as exc:
            raise click.ClickException(str(exc)) from None


@main.command("create-token")
@click.argument("username")
@click.option("--name", default="cli", help="A label for the token.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(accounts.SCOPES),
    help="api (default): the ticket API; inbound: only posting raw mail.",
)
def create_token(username: str, name: str, scopes: tuple[str, ...]) -> None:
    """Print a new API token for USERNAME."""
    settings = get_settings()
    with transaction(_sessions(settings)) as session:
        user = session.scalar(select(accounts.User).where(accounts.User.username == username))
        if user is None:
            raise click.ClickException(f"No user named '{username}'.")
        click.echo(accounts.create_token(session, user, name=name, scopes=scopes or ("api",)))


@main.group()
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


@main.group()
def pending() -> None:
    """Accepted tickets whose start has not succeeded yet."""


@pending.command("list")
def pending_list() -> None:
    """List the starts that failed (dead-lettered or backing off), with their reasons."""
    settings = get_settings()
    with _sessions(settings)() as session:
        for row in session.scalars(
            select(PendingStart).where(PendingStart.attempts > 0).order_by(PendingStart.created_at)
        ):
            state = "dead" if row.dead_at else f"next try {row.next_attempt_at:%Y-%m-%d %H:%M}"
            click.echo(f"{row.ticket_number:20} {row.attempts:3}  {state}  {row.last_error}")


@pending.command("retry")
@click.argument("number", required=False)
def pending_retry(number: str | None) -> None:
    """Try a failed start again (one ticket, or every one) at the worker's next round."""
    count = pending_starts.retry(_sessions(get_settings()), number)
    click.echo(f"{count} start(s) will be tried again.")


@main.command("create-user")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--group", "groups", multiple=True, help="A group to join (repeatable).")
@click.option("--name", default="", help="Display name.")
def create_user(username: str, admin: bool, groups: tuple[str, ...], name: str) -> None:
    """Create an agent (or admin) and ask for the password."""
    settings = get_settings()
    password = os.environ.get("TEMPODESK_NEW_PASSWORD") or getpass.getpass("Password: ")
    if len(password) < 8:
        raise click.ClickException("Use a password of at least 8 characters.")
    with transaction(_sessions(settings)) as session:
        if session.scalar(select(accounts.User).where(accounts.User.username == username)):
            raise click.ClickException(f"The user '{username}' exists already.")
        accounts.create_user(
            session, username, password, display_name=name, is_admin=admin, groups=list(groups)
        )
    click.echo(f"Created {username}.")


@main.command("reset-totp")
@click.argument("username")
def reset_totp(username: str) -> None:
    """Turn off a user's two-step sign-in (they lost their authenticator app)."""
    with transaction(_sessions(get_settings())) as session:
        user = session.scalar(select(accounts.User).where(accounts.User.username == username))
        if user is None:
            raise click.ClickException(f"No user '{username}'.")
        user.totp_secret = ""
    click.echo(f"Two-step sign-in is off: {username} signs in with the password alone.")


@main.command()
@click.option("--queues", default=None, help="tickets,mail,webhooks (TEMPODESK_WORKER_QUEUES).")
def worker(queues: str | None) -> None:
    """Run a worker: ticket workflows, their activities and the mail queue."""
    from tempodesk.app.worker import run_worker

    overrides = {"worker_queues": queues} if queues else {}
    asyncio.run(run_worker(get_settings(**overrides)))


@main.command()
def web() -> None:
    """Serve the web app (Werkzeug, for development; production runs gunicorn)."""
    from werkzeug.serving import run_simple

    from tempodesk.app.runtime import Runtime
    from web import create_app

    settings = get_settings()
    app = create_app(runtime=Runtime(settings))
    run_simple(settings.web_host, settings.web_port, app, threaded=True, use_reloader=False)


@main.command()
def dev() -> None:
    """Run everything on this machine: Temporal dev server, worker, web app and mail catcher."""
    from tempodesk.mail.sink import MailSink

    settings = get_settings()
    var = settings.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    temporal = _dev_temporal(settings, var)
    seeded, remembered = _dev_data(settings, var)
    sink = MailSink(settings.smtp_port, var / "mail-sink")
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        sink.start()
        click.echo(f"Starting Temporal (data in {var / 'temporal.db'}) ...")
        temporal.start()
        _start_children(_dev_env(settings, var), children)
        _wait_for_web(settings, children)
        if seeded:
            _demo_tickets(settings)
        _banner(settings, remembered)
        _watch(children, lambda: stopping)
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("\nStopping ...")
        _stop_children(children)
        temporal.stop()
        sink.stop()
        click.echo("Stopped. Your data stays in var/; `make dev` carries on where you left.")


def _dev_temporal(settings: Settings, var: Path) -> TemporalDevServer:
    """The Temporal dev server, once every port `tempodesk dev` needs is known to be free."""
    from tempodesk.app.devserver import PortBusy, TemporalDevServer, require_free

    try:
        require_free(settings.web_port, "the web app", "TEMPODESK_WEB_PORT")
        require_free(settings.smtp_port, "the mail catcher", "TEMPODESK_SMTP_PORT")
        require_free(settings.temporal_port, "Temporal", "TEMPODESK_TEMPORAL_PORT")
        require_free(settings.temporal_ui_port, "the Temporal UI", "TEMPODESK_TEMPORAL_UI_PORT")
    except PortBusy as exc:
        raise click.ClickException(str(exc)) from None
    return TemporalDevServer(
        port=settings.temporal_port,
        ui_port=settings.temporal_ui_port,
        db_file=var / "temporal.db",
        namespaces=(settings.temporal_namespace,),
        log_file=var / "temporal.log",
    )


def _dev_data(settings: Settings, var: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Migrate and seed the demo data on a first run: (what was seeded now, the logins kept)."""
    upgrade(settings.db_url)
    with transaction(_sessions(settings)) as session:
        seeded = demo.seed_demo(session, mail_domain=settings.message_id_domain)
    if seeded:
        demo.remember(var / "demo-logins.json", seeded)
    return seeded, demo.recall(var / "demo-logins.json")


def _dev_env(settings: Settings, var: Path) -> dict[str, str]:
    """The environment of the worker and the web app: same var/, mail to the catcher."""
    return {
        **os.environ,
        "TEMPODESK_VAR_DIR": str(var),
        "TEMPODESK_MAIL_SINK_DIR": str(var / "mail-sink"),
        "TEMPODESK_SMTP_HOST": "127.0.0.1",
        "TEMPODESK_SMTP_PORT": str(settings.smtp_port),
    }


def _start_children(env: dict[str, str], children: list[subprocess.Popen[bytes]]) -> None:
    """Start the worker and the web app, each added to ``children`` as soon as it runs."""
    for command in ("worker", "web"):
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "tempodesk.app.cli", command],
                env=env,
                start_new_session=True,
            )
        )


def _watch(children: list[subprocess.Popen[bytes]], stopping: Callable[[], bool]) -> None:
    """Wait until asked to stop, or until a child process dies."""
    while not stopping():
        if any(child.poll() is not None for child in children):
            click.echo("A Tempodesk process stopped unexpectedly; shutting down.", err=True)
            break
        time.sleep(0.5)


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each child, the last started first; killed if not gone within 20 s."""
    for child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in reversed(children):
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()


def _wait_for_web(settings: Settings, children: list[subprocess.Popen[bytes]]) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise click.ClickException("The worker or the web app failed to start.")
        try:
            with urllib.request.urlopen(f"{settings.public_url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise click.ClickException("The web app did not start within a minute.")


def _demo_tickets(settings: Settings) -> None:
    """Two tickets so the desk is not empty on a first run."""
    from tempodesk.contracts import CustomerRef
    from tempodesk.core.temporal import TemporalFacade
    from tempodesk.tickets.intake import Intake, NewTicket

    temporal = TemporalFacade(settings)
    intake = Intake(settings, _sessions(settings), temporal)
    try:
        intake.create_ticket(
            NewTicket(
                subject="The kettle from my order stopped working",
                body="Hello,\nthe kettle I bought (order ORD-1001) stopped heating after a week."
                "\nCan I get it repaired or replaced?\nJana",
                customer=CustomerRef(email="jana.novakova@example.com", name="Jana Nováková"),
                channel="web",
                order_number="ORD-1001",
                idempotency_key="demo:1",
            )
        )
        intake.create_ticket(
            NewTicket(
                subject="Invoice for four office chairs",
                body="Could you send us the invoice for order ORD-1002 with our VAT number?",
                customer=CustomerRef(email="petr@acme.example", name="Petr Svoboda"),
                channel="api",
                order_number="ORD-1002",
                idempotency_key="demo:2",
            )
        )
    finally:
        temporal.close()


def _banner(settings: Settings, remembered: dict[str, object]) -> None:
    logins = remembered.get("logins") or {}
    lines = [
        "",
        "Tempodesk is running. Press Ctrl-C to stop.",
        "",
        f"  Agent desk       {settings.public_url}/desk/",
        f"  Public web form  {settings.public_url}/support/new",
        f"  REST API         {settings.public_url}/api/v1/tickets",
        f"  Temporal UI      {settings.workflow_url('')}",
        f"  Caught mail      {settings.public_url}/desk/mail (SMTP 127.0.0.1:{settings.smtp_port})",
        "",
    ]
    if isinstance(logins, dict) and logins:
        lines.append("  Demo logins (also in var/demo-logins.json):")
        lines += [f"    {user:8} {password}" for user, password in logins.items()]
        lines.append(f"  Demo API token:  {remembered.get('token')}")
        lines.append(
            f"    curl -H 'Authorization: Bearer {remembered.get('token')}' "
            f"{settings.public_url}/api/v1/tickets"
        )
    click.echo("\n".join(lines), err=False)
    sys.stdout.flush()


def _safe_url(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


main.add_command(gdpr)
main.add_command(bulk)
main.add_command(doctor)

if __name__ == "__main__":
    main()
