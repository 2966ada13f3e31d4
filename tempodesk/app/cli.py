"""The `tempodesk` command. Every subcommand reads the same settings as the app."""

from __future__ import annotations

import asyncio
import getpass
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

from statemachines import DefinitionError
from tempodesk.app import demo, logs
from tempodesk.app.cli_mailbox import mailbox
from tempodesk.app.cli_privacy import bulk, gdpr
from tempodesk.app.cli_support import prepare as _prepare
from tempodesk.app.cli_support import sessions as _sessions
from tempodesk.app.doctor import doctor
from tempodesk.core import audit
from tempodesk.core.db import transaction, upgrade
from tempodesk.core.models import PendingStart
from tempodesk.core.settings import Settings, get_settings
from tempodesk.people import accounts
from tempodesk.telephony.sms_standin import dev_banner_line, dev_environment, start_for_dev
from tempodesk.tickets import pending as pending_starts
from tempodesk.tickets import processes

if TYPE_CHECKING:
    from tempodesk.app.devserver import TemporalDevServer


@click.group()
def main() -> None:
    """Tempodesk: a helpdesk where every ticket is a durable Temporal workflow."""
    logs.configure(os.environ.get("TEMPODESK_LOG_FORMAT", "text"))


main.add_command(mailbox)


@main.group()
def db() -> None:
    """Database commands."""


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
    help="api (default): the ticket API; inbound: only posting raw mail; ops: /readyz, /metrics.",
)
def create_token(username: str, name: str, scopes: tuple[str, ...]) -> None:
    """Print a new API token for USERNAME."""
    settings = get_settings()
    with transaction(_sessions(settings)) as session:
        user = session.scalar(select(accounts.User).where(accounts.User.username == username))
        if user is None:
            raise click.ClickException(f"No user named '{username}'.")
        token = accounts.create_token(
            session,
            user,
            name=name,
            scopes=scopes or ("api",),
            actor=audit.os_actor(),
            actor_kind="cli",
        )
        click.echo(token)


def _cli_audit(session: Any, action: str, username: str, after: dict[str, Any]) -> None:
    audit.record(
        session,
        action,
        actor=audit.os_actor(),
        actor_kind="cli",
        object_type="user",
        object_id=username,
        after=after,
    )


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
@click.option(
    "--role", "roles", multiple=True, help="A role (repeatable; default: agent, or admin)."
)
@click.option("--name", default="", help="Display name.")
def create_user(
    username: str, admin: bool, groups: tuple[str, ...], roles: tuple[str, ...], name: str
) -> None:
    """Create an agent (or admin) and ask for the password."""
    settings = get_settings()
    password = os.environ.get("TEMPODESK_NEW_PASSWORD") or getpass.getpass("Password: ")
    if len(password) < 8:
        raise click.ClickException("Use a password of at least 8 characters.")
    with transaction(_sessions(settings)) as session:
        if session.scalar(select(accounts.User).where(accounts.User.username == username)):
            raise click.ClickException(f"The user '{username}' exists already.")
        known = set(session.scalars(select(accounts.Role.name)))
        if unknown := sorted(set(roles) - known):
            raise click.ClickException(f"There is no role {', '.join(unknown)}.")
        user = accounts.create_user(
            session,
            username,
            password,
            display_name=name,
            is_admin=admin,
            groups=list(groups),
            roles=list(roles) or None,
        )
        after = audit.snapshot(user, ("username", "display_name", "role_names", "groups"))
        _cli_audit(session, "user.create", username, after)
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
        _cli_audit(session, "user.reset_totp", username, {"second_factor": False})
    click.echo(f"Two-step sign-in is off: {username} signs in with the password alone.")


@main.command()
@click.option(
    "--queues", default=None, help="tickets,mail,webhooks,telephony (TEMPODESK_WORKER_QUEUES)."
)
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
    from tempodesk.app.devserver import dev_pbx
    from tempodesk.mail.sink import MailSink

    settings = get_settings()
    var = settings.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    temporal = _dev_temporal(settings, var)
    seeded, remembered = _dev_data(settings, var)
    sink = MailSink(settings.smtp_port, var / "mail-sink")
    pbx, phone_env = dev_pbx(settings, _sessions(settings))  # the stand-in PBX (Phone lab)
    sms_gateway = start_for_dev(settings, _sessions(settings), var / "sms-sink")
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
        _start_children({**_dev_env(settings, var), **phone_env}, children)
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
        pbx.stop()
        sms_gateway.stop()
        click.echo("Stopped. Your data stays in var/; `make dev` carries on where you left.")


def _dev_temporal(settings: Settings, var: Path) -> TemporalDevServer:
    """The Temporal dev server, once every port `tempodesk dev` needs is known to be free."""
    from tempodesk.app.devserver import PortBusy, TemporalDevServer, require_free

    try:
        require_free(settings.web_port, "the web app", "TEMPODESK_WEB_PORT")
        require_free(settings.smtp_port, "the mail catcher", "TEMPODESK_SMTP_PORT")
        require_free(settings.sms_stand_in_port, "the SMS stand-in", "TEMPODESK_SMS_STAND_IN_PORT")
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
        **dev_environment(var),  # the SMS stand-in's
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
        f"  Phone lab        {settings.public_url}/phone/lab (the stand-in PBX, AMI)",
        dev_banner_line(settings),
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
